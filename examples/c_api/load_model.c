/* Example: an engine written in C that links Sigil (sigil::load_c) and loads its weights with
 * sigil_load_model(), then prints their size and SHA-256. The integration test
 * tests/integration/c_api_test.cpp runs it against a real broker.
 *
 *   sigil-c-example BROKER_URL CA_FILE TENANT DEV_PLATFORM_KEY MODEL.sgl
 *
 * Output: "size: N\nsha256: HEX\n"; exit status is sigil_load_model's code on failure. */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader/c_api/sigil_load.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s BROKER_URL CA_FILE TENANT DEV_PLATFORM_KEY MODEL.sgl\n", argv[0]);
    return 2;
  }
  sigil_load_options opts = {0};
  opts.broker_url = argv[1];
  opts.ca_file = argv[2];
  opts.tenant = argv[3];
  opts.dev_platform_key = argv[4];
  opts.model = argv[5];
  /* measure_binary NULL: the evidence reports this program's own measurement. */
  int fd = -1;
  uint64_t size = 0;
  char err[512];
  int rc = sigil_load_model(&opts, &fd, &size, err, sizeof err);
  if (rc != SIGIL_LOAD_OK) {
    fprintf(stderr, "sigil-c-example: %s\n", err);
    return rc;
  }
  const unsigned char* data = NULL;
  if (size > 0) {
    /* The weights stay in the sealed memfd, locked by the library until unloaded: map them
     * read-only and keep this mapping out of core dumps as the API documents. */
    void* p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      perror("sigil-c-example: mmap");
      close(fd);
      return 1;
    }
    madvise(p, (size_t)size, MADV_DONTDUMP);
    data = p;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data, (size_t)size, md, &md_len, EVP_sha256(), NULL) != 1) {
    fprintf(stderr, "sigil-c-example: EVP_Digest failed\n");
    return 1;
  }
  printf("size: %llu\nsha256: ", (unsigned long long)size);
  for (unsigned int i = 0; i < md_len; ++i) printf("%02x", md[i]);
  printf("\n");
  if (data != NULL) munmap((void*)data, (size_t)size);
  /* Wipes the weights (every other view of the memfd reads zeros from now on) and closes fd. */
  rc = sigil_unload_model(fd);
  if (rc != SIGIL_LOAD_OK) {
    fprintf(stderr, "sigil-c-example: sigil_unload_model: %d\n", rc);
    return rc;
  }
  return 0;
}
