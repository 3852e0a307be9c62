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
static int (*ialltoall)(const void *, int, Handle, void *, int, Handle, Handle, Handle *);
static int (*iallgather)(const void *, int, Handle, void *, int, Handle, Handle, Handle *);
static int (*test_)(Handle *, int *, void *);
static int (*wait_)(Handle *, void *);
static int (*comm_split_type)(Handle, int, int, Handle, Handle *);
static int (*comm_free)(Handle *);
static int (*win_allocate_shared)(ptrdiff_t, int, Handle, Handle, void *, Handle *);
static int (*win_shared_query)(Handle, int, ptrdiff_t *, int *, void *);
static int (*win_lock_all)(int, Handle);
static int (*win_unlock_all)(Handle);
static int (*win_sync)(Handle);
static int (*win_free)(Handle *);
static Handle world, float_, double_, byte_, sum, max, info_null;
static int rank = 0, size = 1;
// The processes on this machine, and their shared-memory window once a sum has asked for one.
static Handle node = NULL, window = NULL;
static int node_size = 0;

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
    ialltoall = symbol(library, "MPI_Ialltoall", error, capacity, &failed);
    iallgather = symbol(library, "MPI_Iallgather", error, capacity, &failed);
    test_ = symbol(library, "MPI_Test", error, capacity, &failed);
    wait_ = symbol(library, "MPI_Wait", error, capacity, &failed);
    comm_split_type = symbol(library, "MPI_Comm_split_type", error, capacity, &failed);
    comm_free = symbol(library, "MPI_Comm_free", error, capacity, &failed);
    win_allocate_shared = symbol(library, "MPI_Win_allocate_shared", error, capacity, &failed);
    win_shared_query = symbol(library, "MPI_Win_shared_query", error, capacity, &failed);
    win_lock_all = symbol(library, "MPI_Win_lock_all", error, capacity, &failed);
    win_unlock_all = symbol(library, "MPI_Win_unlock_all", error, capacity, &failed);
    win_sync = symbol(library, "MPI_Win_sync", error, capacity, &failed);
    win_free = symbol(library, "MPI_Win_free", error, capacity, &failed);
    info_null = symbol(library, "ompi_mpi_info_null", error, capacity, &failed);
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
int synapse_mpi_finalize(void) {
    int status = synapse_mpi_shared_free();
    if (!status && node) status = comm_free(&node);
    node = NULL;
    return status ? status : finalize();
}
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


int synapse_mpi_node_size(int *result) {
    if (!node) {
        int status = comm_split_type(world, 0 /* MPI_COMM_TYPE_SHARED */, rank, info_null, &node);
        if (status) return status;
        status = comm_size(node, &node_size);
        if (status) return status;
    }
    *result = node_size;
    return 0;
}

int synapse_mpi_shared_allocate(size_t bytes, void **bases, int count) {
    if (!node || count != node_size) return -1;
    int status = synapse_mpi_shared_free();
    if (status) return status;
    void *mine = NULL;
    if ((status = win_allocate_shared((ptrdiff_t)bytes, 1, info_null, node, &mine, &window))) return status;
    for (int r = 0; r < count; r++) {
        ptrdiff_t size_ = 0;
        int unit = 0;
        if ((status = win_shared_query(window, r, &size_, &unit, &bases[r]))) return status;
    }
    return win_lock_all(1 /* MPI_MODE_NOCHECK */, window);
}

int synapse_mpi_shared_synchronize(void) {
    int status = win_sync(window);
    if (!status) status = barrier(node);
    if (!status) status = win_sync(window);
    return status;
}

int synapse_mpi_shared_free(void) {
    if (!window) return 0;
    int status = win_unlock_all(window);
    if (!status) status = win_free(&window);
    window = NULL;
    return status;
}

int synapse_mpi_ialltoall_float(const float *send, float *receive, size_t count, void **request) {
    if (count > PIECE) return -1;
    return ialltoall(send, (int)count, float_, receive, (int)count, float_, world, (Handle *)request);
}

int synapse_mpi_iallgather_float(const float *send, float *receive, size_t count, void **request) {
    if (count > PIECE) return -1;
    return iallgather(send, (int)count, float_, receive, (int)count, float_, world, (Handle *)request);
}

// MPI_STATUS_IGNORE is a null pointer in Open MPI.
int synapse_mpi_test(void **request, int *done) { return test_((Handle *)request, done, NULL); }
int synapse_mpi_wait(void **request) { return wait_((Handle *)request, NULL); }
