"""Consented face enrolment, consent withdrawal and move-out."""
