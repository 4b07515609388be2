"""The indexing side: read collected files, embed passages, write the index, group stories.

``ingest`` reads and cleans inputs, ``embed`` runs the model, ``storage`` owns the index
format, ``stories`` groups articles, and ``build`` drives them all (a batch is written by
``write_step``, its passages embedded by ``embed_step``).
"""
