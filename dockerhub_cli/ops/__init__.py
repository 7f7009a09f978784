"""Operations: the features, written against the remote clients."""
