-- Go reachability: the function names a build's binary links (read from
-- its pclntab at upload), and what reachability decided for a finding.

-- symbols_count: distinct (package, symbol) names read; NULL when none
-- were read (a `go version -m` upload, or a build stored before this).
-- symbols_error: why a binary's function table could not be read.
ALTER TABLE go_builds
    ADD COLUMN symbols_count integer,
    ADD COLUMN symbols_error text;

-- One row per package path: its symbols, sorted, newline-separated (a
-- large binary has ~100k names in ~1k packages; reachability reads only
-- the packages an advisory lists).
CREATE TABLE go_build_symbols (
    go_build_id bigint NOT NULL REFERENCES go_builds (id) ON DELETE CASCADE,
    package     text COLLATE "C" NOT NULL,
    names       text NOT NULL,
    PRIMARY KEY (go_build_id, package)
);

-- {"state": "linked"|"not_linked"|"unknown", "symbols"|"checked": [...],
--  "binary": "sha256:…", "sets_state": bool}; NULL when no binary's
-- symbols were known for the finding.
ALTER TABLE findings ADD COLUMN reachability jsonb;
