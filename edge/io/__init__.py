"""Gate hardware: relay drivers that open the barrier."""
