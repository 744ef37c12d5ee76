"""Pure parsers: record text in, typed data out. No I/O, no ``await`` (DESIGN rule 1)."""
