"""The benchmark suite of issue 5: sink throughput, end to end, cold start (``python -m tests.bench``).

One module per benchmark (``sink``, ``end_to_end``, ``cold_start``), the peers they start as separate
processes (``procs``), the events they send (``workload``), the tables and targets (``report``);
``hotspots`` profiles one forwarding pass, ``wire`` counts the forwarder's socket bytes.
"""
