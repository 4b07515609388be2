"""The steps of a build (indexer/build.py): its report, embedding and writing a batch."""
