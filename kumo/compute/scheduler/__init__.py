"""The scheduler (booklet steps 9–12): Placement candidates, filters, weighers, claim, cast."""
