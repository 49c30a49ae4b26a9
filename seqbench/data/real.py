"""Real-data tasks (SST-2, IMDB, CoNLL-2003) register their datasets here."""
