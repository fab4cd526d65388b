"""Tamper evidence: a Merkle tree over the notification log (RFC 9162), signed tree heads,
inclusion and consistency proofs, verification and export. The hashing and the proof checks are
those of tools/verify_export.py, the regulator's own verifier."""
