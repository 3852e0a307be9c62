#include "CSynapseMPI.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

// Open MPI's ABI: every handle is a pointer to a predefined object, and MPI_IN_PLACE is 1.
typedef void *Handle;
#define IN_PLACE ((void *)1)
#define THREAD_FUNNELED 1

static int (*init_thread)(int *, char ***, int, int *);
static int (*finalize)(void);
static int (*comm_rank)(Handle, int *);
static int (*comm_size)(Handle, int *);
static int (*abort_)(Handle, int);
static int (*barrier)(Handle);
static int (*bcast)(void *, int, Handle, int, Handle);
static int (*allreduce)(const void *, void *, int, Handle, Handle, Handle);
static int (*alltoall)(const void *, int, Handle, void *, int, Handle, Handle);
static int (*allgather)(const void *, int, Handle, void *, int, Handle, Handle);
static Handle world, float_, double_, byte_, sum, max;
static int rank = 0, size = 1;

static void *symbol(void *library, const char *name, char *error, size_t capacity, int *failed) {
    void *address = dlsym(library, name);
    if (!address && !*failed) {
        snprintf(error, capacity, "libmpi has no symbol %s: Synapse needs Open MPI (apt-get install -y openmpi-bin libopenmpi-dev)", name);
        *failed = 1;
    }
    return address;
}

int synapse_mpi_load(char *error, size_t capacity) {
    const char *chosen = getenv("SYNAPSE_MPI_LIBRARY");
    const char *names[] = {"libmpi.so.40", "libmpi.so", "libmpi.40.dylib", "libmpi.dylib"};
    void *library = NULL;
    if (chosen && *chosen) {
        library = dlopen(chosen, RTLD_NOW | RTLD_GLOBAL);
    } else {
        for (size_t i = 0; i < sizeof names / sizeof *names && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
    }
    if (!library) {
        snprintf(error, capacity, "MPI is not installed (no %s found): apt-get install -y openmpi-bin libopenmpi-dev, then run under mpirun",
                 chosen && *chosen ? chosen : "libmpi");
        return -1;
    }
    int failed = 0;
    init_thread = symbol(library, "MPI_Init_thread", error, capacity, &failed);
    finalize = symbol(library, "MPI_Finalize", error, capacity, &failed);
    comm_rank = symbol(library, "MPI_Comm_rank", error, capacity, &failed);
    comm_size = symbol(library, "MPI_Comm_size", error, capacity, &failed);
    abort_ = symbol(library, "MPI_Abort", error, capacity, &failed);
    barrier = symbol(library, "MPI_Barrier", error, capacity, &failed);
    bcast = symbol(library, "MPI_Bcast", error, capacity, &failed);
    allreduce = symbol(library, "MPI_Allreduce", error, capacity, &failed);
    alltoall = symbol(library, "MPI_Alltoall", error, capacity, &failed);
    allgather = symbol(library, "MPI_Allgather", error, capacity, &failed);
    world = symbol(library, "ompi_mpi_comm_world", error, capacity, &failed);
    float_ = symbol(library, "ompi_mpi_float", error, capacity, &failed);
    double_ = symbol(library, "ompi_mpi_double", error, capacity, &failed);
    byte_ = symbol(library, "ompi_mpi_byte", error, capacity, &failed);
    sum = symbol(library, "ompi_mpi_op_sum", error, capacity, &failed);
    max = symbol(library, "ompi_mpi_op_max", error, capacity, &failed);
    return failed ? -1 : 0;
}

int synapse_mpi_init(void) {
    int provided = 0;
    int status = init_thread(NULL, NULL, THREAD_FUNNELED, &provided);
    if (status) return status;
    if ((status = comm_rank(world, &rank))) return status;
    return comm_size(world, &size);
}

int synapse_mpi_rank(void) { return rank; }
int synapse_mpi_size(void) { return size; }
int synapse_mpi_finalize(void) { return finalize(); }
void synapse_mpi_abort(int code) { abort_(world, code); }
int synapse_mpi_barrier(void) { return barrier(world); }

// MPI counts are int: long messages go in pieces of at most INT_MAX / 8 elements.
#define PIECE ((size_t)(INT_MAX / 8))

int synapse_mpi_broadcast(void *buffer, size_t bytes, int root) {
    for (size_t start = 0; start < bytes; start += PIECE) {
        size_t count = bytes - start < PIECE ? bytes - start : PIECE;
        int status = bcast((char *)buffer + start, (int)count, byte_, root, world);
        if (status) return status;
    }
    return 0;
}

static int reduce_doubles(double *buffer, size_t count, Handle op) {
    for (size_t start = 0; start < count; start += PIECE) {
        size_t n = count - start < PIECE ? count - start : PIECE;
        int status = allreduce(IN_PLACE, buffer + start, (int)n, double_, op, world);
        if (status) return status;
    }
    return 0;
}

int synapse_mpi_allreduce_double_sum(double *buffer, size_t count) { return reduce_doubles(buffer, count, sum); }
int synapse_mpi_allreduce_double_max(double *buffer, size_t count) { return reduce_doubles(buffer, count, max); }

int synapse_mpi_allreduce_float_sum(float *buffer, size_t count) {
    for (size_t start = 0; start < count; start += PIECE) {
        size_t n = count - start < PIECE ? count - start : PIECE;
        int status = allreduce(IN_PLACE, buffer + start, (int)n, float_, sum, world);
        if (status) return status;
    }
    return 0;
}

int synapse_mpi_alltoall_float(const float *send, float *receive, size_t count) {
    if (count > PIECE) return -1;
    return alltoall(send, (int)count, float_, receive, (int)count, float_, world);
}

int synapse_mpi_allgather_float(const float *send, float *receive, size_t count) {
    if (count > PIECE) return -1;
    return allgather(send, (int)count, float_, receive, (int)count, float_, world);
}

int synapse_mpi_allgather_bytes(const void *send, void *receive, size_t count) {
    if (count > PIECE) return -1;
    return allgather(send, (int)count, byte_, receive, (int)count, byte_, world);
}
