"""The interactive dashboard (`hemsim-dashboard`): a Mesa SolaraViz page over a scenario and its baseline."""
