"""Many patients at once: FHIR Bulk Data NDJSON in, one assessment row per patient out, locally or on Spark."""
