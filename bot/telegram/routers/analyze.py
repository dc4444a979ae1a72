"""/analyze SYMBOL: the analysis in words, a chart, and the wider indicator set on demand."""
