"""Human reactions in: dataset readers, the long annotation table, label mappings, data paths."""
