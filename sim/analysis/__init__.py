"""Analysis of finished runs: reads result files only, never imports the model."""
