"""The vector database suite (`pytest suites/vectordb`): its plan (options checked up front) and its stages
(backend, load once, N timed runs), each run written under `vector_database/<engine>/<INDEX>/<command>/<datetime>/`."""
