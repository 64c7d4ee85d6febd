/* The C API of sigil-load, for engines that link Sigil directly instead of being started by
 * `sigil-load run`. One call does what `sigil-load run` does before it starts the engine:
 * attest to the broker (the evidence reports the measurement of `measure_binary`, by default
 * the calling program itself), receive the model's key sealed to an ephemeral key, and decrypt
 * the .sgl into a sealed memfd (docs/architecture.md, "C API").
 *
 * Plain C (C99): no C++ types or exceptions cross this header; every failure is a return code
 * plus a message. Thread-safe (the only global state is the mutex-guarded list of loaded models
 * that sigil_unload_model and process exit wipe). Link with the CMake target sigil::load_c.
 */
#ifndef SIGIL_LOAD_H_
#define SIGIL_LOAD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sigil_load_options {
  const char* broker_url;       /* "https://HOST:PORT" (required) */
  const char* ca_file;          /* broker CA certificate, PEM (required) */
  const char* tenant;           /* (required) */
  const char* tee;              /* TEE type; NULL means "dev" */
  const char* dev_platform_key; /* INSECURE dev TEE platform key file (--tee dev only) */
  const char* model;            /* the .sgl file (required) */
  const char* measure_binary;   /* binary whose measurement the evidence reports; NULL means
                                   /proc/self/exe, the program calling this function */
  unsigned threads;             /* decryption threads; 0 = all cores */
  int allow_unlocked;           /* non-zero: if the pages cannot be locked (mlock, RLIMIT_MEMLOCK),
                                   continue with them swappable; 0 (default): fail with
                                   SIGIL_LOAD_UNAVAILABLE. The calling program is what is
                                   measured, so this choice is part of its measurement. */
  int debug;                    /* non-zero: report a debug-enabled TEE (dev TEE only) */
} sigil_load_options;

/* Return codes (the same classes as sigil-load's exit codes). */
enum {
  SIGIL_LOAD_OK = 0,
  SIGIL_LOAD_ERROR = 1,              /* internal error */
  SIGIL_LOAD_INVALID_ARGUMENT = 2,   /* bad option, unreadable or malformed container */
  SIGIL_LOAD_UNAVAILABLE = 3,        /* broker unreachable, I/O, memfd/mlock failure */
  SIGIL_LOAD_DENIED = 4              /* attestation, policy or verification refused */
};

/* Attests, receives the key and decrypts opts->model into a new memfd, verifying every chunk
 * (the tags also bind chunk order and length) before returning. On success returns
 * SIGIL_LOAD_OK, *out_fd is a memfd (O_CLOEXEC) sealed against write, shrink and grow
 * (F_SEAL_FUTURE_WRITE: no writable mapping of it exists or can be made), and *out_size its size.
 * OWNERSHIP: release it with sigil_unload_model(*out_fd), not close(2) alone. The plaintext
 * exists only in that memfd (never on disk); until unloaded, the library keeps its pages
 * locked (mlock: no swap) and out of core dumps through its own mapping, and it is the only
 * party that can still overwrite them. A caller that maps the fd itself (mmap PROT_READ,
 * MAP_SHARED) should madvise(MADV_DONTDUMP) its mapping (the example in examples/c_api does).
 * On failure returns one of the codes above, leaves *out_fd = -1 and *out_size = 0, and writes
 * a NUL-terminated message (truncated to err_len - 1 bytes) into err if err_len > 0.
 * Note: like sigil-load, the call makes the process non-dumpable (PR_SET_DUMPABLE 0) and
 * disables core dumps, since it holds keys in memory. */
int sigil_load_model(const sigil_load_options* opts, int* out_fd, uint64_t* out_size, char* err, size_t err_len);

/* Overwrites the weights of a model returned by sigil_load_model with zeros, releases the
 * library's locked mapping, and closes fd. Every other descriptor or mapping of that memfd (a
 * dup, one passed to another process) then reads zeros: unmap yours first. Returns
 * SIGIL_LOAD_OK, or SIGIL_LOAD_INVALID_ARGUMENT (fd left untouched) if fd is not a loaded,
 * not yet unloaded model of this process. Models never unloaded are wiped at exit(3) (not on
 * _exit(2) or a fatal signal: then the kernel only frees the pages). */
int sigil_unload_model(int fd);

#ifdef __cplusplus
}
#endif

#endif /* SIGIL_LOAD_H_ */
