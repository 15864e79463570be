"""Credentials other than the face: visitor QR passes, cards, PINs and guard remote-open."""
