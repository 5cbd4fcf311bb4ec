"""The clinic web app: clinician workspace, patient portal, reports; server-rendered pages over the store."""
