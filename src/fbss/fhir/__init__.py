"""FHIR R4 in and out (importer, exporter, mapping.yaml) and the CDS Hooks 2.0 service for the EHR."""
