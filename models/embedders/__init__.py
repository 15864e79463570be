"""Face embedders: aligned chip in, template vector out."""
