// A small, implementation-neutral face of MPI for Swift.
//
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM) are C macros over the addresses of
// global objects, which Swift cannot import, and linking libmpi would make every build of
// Synapse need MPI. So this shim loads libmpi at run time with dlopen(RTLD_GLOBAL) (Open MPI
// loads its own plugins against the symbols of libmpi, hence GLOBAL) and resolves both the
// functions and the handles by name. Without libmpi, synapse_mpi_load fails and says why;
// nothing else in Synapse depends on it.
#ifndef CSYNAPSE_MPI_H
#define CSYNAPSE_MPI_H

#include <stddef.h>

// Loads libmpi: SYNAPSE_MPI_LIBRARY alone if set, else the first of libmpi.so.40, libmpi.so,
// libmpi.40.dylib and libmpi.dylib. Returns 0, or -1 with a message in `error`.
int synapse_mpi_load(char *error, size_t capacity);

// MPI_Init_thread with MPI_THREAD_FUNNELED: only the thread that initialized calls MPI.
// Returns 0 or an MPI error code. Rank and size are valid after it.
int synapse_mpi_init(void);
int synapse_mpi_rank(void);
int synapse_mpi_size(void);
int synapse_mpi_finalize(void);
// Ends every process of the job with `code` (MPI_Abort on MPI_COMM_WORLD).
void synapse_mpi_abort(int code);

int synapse_mpi_barrier(void);
// Broadcasts `bytes` bytes from `root` to every rank, in place.
int synapse_mpi_broadcast(void *buffer, size_t bytes, int root);
// Element-wise sums (or maxima) across ranks, in place. The order in which MPI adds the
// ranks' values is its own, so float sums may differ in the last bit from one message size
// or algorithm to another; Synapse averages gradients with alltoall and allgather instead.
int synapse_mpi_allreduce_double_sum(double *buffer, size_t count);
int synapse_mpi_allreduce_double_max(double *buffer, size_t count);
// MPI_Allreduce of floats, for comparison only (benchmarks): not deterministic across
// message sizes, as above.
int synapse_mpi_allreduce_float_sum(float *buffer, size_t count);
// Rank r sends send[j*count ..< (j+1)*count] to rank j and receives rank j's block r into
// receive[j*count ..< (j+1)*count].
int synapse_mpi_alltoall_float(const float *send, float *receive, size_t count);
// Every rank sends `count` floats; receive holds rank j's at [j*count ..< (j+1)*count].
int synapse_mpi_allgather_float(const float *send, float *receive, size_t count);
// The same, for bytes.
int synapse_mpi_allgather_bytes(const void *send, void *receive, size_t count);


// Non-blocking forms of the two above (MPI_Ialltoall, MPI_Iallgather): `request` receives the
// request to pass to synapse_mpi_test (sets *done once it has completed, and moves it along:
// Open MPI advances non-blocking collectives inside MPI calls) or synapse_mpi_wait.
int synapse_mpi_ialltoall_float(const float *send, float *receive, size_t count, void **request);
int synapse_mpi_iallgather_float(const float *send, float *receive, size_t count, void **request);
int synapse_mpi_test(void **request, int *done);
int synapse_mpi_wait(void **request);

// Shared memory between the processes on this machine (MPI-3's MPI_Win_allocate_shared on
// MPI_COMM_TYPE_SHARED), so that they can sum gradients at memory speed instead of through
// the library's message queues. synapse_mpi_node_size gives how many processes share this
// machine. synapse_mpi_shared_allocate (collective over those processes) replaces the window
// with one of `bytes` bytes per process and writes each process's part's address, in rank
// order, to bases[0 ..< count]. synapse_mpi_shared_synchronize makes every write before it
// visible to every read after it, on every process of the machine (a barrier with memory
// synchronization). Each returns 0 or an MPI error code.
int synapse_mpi_node_size(int *result);
int synapse_mpi_shared_allocate(size_t bytes, void **bases, int count);
int synapse_mpi_shared_synchronize(void);
int synapse_mpi_shared_free(void);

#endif
