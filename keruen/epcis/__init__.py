"""The GS1 EPCIS 2.0 bridge: read, hash, validate, import and export EPCIS documents."""
