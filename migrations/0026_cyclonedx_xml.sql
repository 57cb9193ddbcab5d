-- CycloneDX XML uploads (backend/src/sbom/cyclonedx/xml.rs): the stored
-- document is the upload byte for byte, so its download needs to know
-- whether it is JSON or XML (`application/vnd.cyclonedx+xml`). `format`
-- stays the standard (`cyclonedx`, `spdx`); every SBOM stored before this
-- migration is JSON.
ALTER TABLE sboms
    ADD COLUMN syntax text NOT NULL DEFAULT 'json' CHECK (syntax IN ('json', 'xml')),
    ADD CONSTRAINT sboms_xml_is_cyclonedx CHECK (syntax = 'json' OR format = 'cyclonedx');
