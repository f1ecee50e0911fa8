"""REPORT.md: every homework question answered from the files under results/ and figures/."""
