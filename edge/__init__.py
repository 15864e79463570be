"""Edge nodes: gate (face access control) and outlet (parcel inspection)."""
