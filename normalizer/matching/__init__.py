"""Candidates -> scores -> confidence -> answer or fallback."""
