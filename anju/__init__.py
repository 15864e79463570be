"""Anju: edge computer vision for compound gates and courier-outlet inspection desks."""
