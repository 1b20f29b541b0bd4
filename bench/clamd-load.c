/// The INSTREAM load generator of the clamd cell, in C: `concurrency` threads in a loop for
/// `seconds`, each sending clean bodies over a unix socket (`zINSTREAM\0`, 64 KiB chunks, the
/// zero-length terminator) in one of two ways:
///  - `connection` (default): one body per connection, shutdown(SHUT_WR), the reply read to EOF, as
///    clamdscan --stream (without -m), rspamd and the npm clamscan package do; a reply other than
///    `stream: OK\0` is an error;
///  - `session`: one connection per thread for the whole run, opened with `zIDSESSION\0`, one body
///    after another on it, each reply (`<id>: stream: OK\0`, ids counted from 1) read before the
///    next body is sent, then `zEND\0` and EOF. clamdscan --stream -m sends a directory's files
///    this way (clamdscan/proto.c parallel_client_scan: one session, a zINSTREAM per file,
///    pipelined: it sends the next file as soon as the socket is writable and reads replies as they
///    come); here each thread keeps one body in flight, so `concurrency` is the objects in flight
///    in both modes.
/// Bodies differ per request (a counter stamped into the first bytes) so nothing can answer from a
/// cache.
///
/// Why C and not the Node generator it replaces: the client shares the 2 CPUs with the server it
/// measures, and the real clients of clamd (clamdscan, clamav-milter, rspamd, Exim) are C doing
/// exactly these five system calls per object. The Node client cost ~0.13 ms of CPU per 4 KiB
/// request (a net.Socket per connection), as much as half of what the servers cost, and that CPU
/// came out of the servers' share. Each thread frames its request once (the server reads the whole
/// stream before answering, so the buffer is free again at EOF). One JSON line on stdout: requests,
/// errors, elapsed seconds, p50/p99 latency in ms, this process's CPU ms, first error samples.
///
/// Built at bench time with Debian's gcc: gcc -O2 -pthread -o clamd-load clamd-load.c
/// Usage: clamd-load <unix socket> <body bytes> <concurrency> <seconds> [connection|session]
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (64 * 1024)
#define MAX_LATENCIES (1 << 22)
#define LOCAL_LATENCIES 4096 /* per thread, flushed into `latencies` under the lock when full */
static const char expected[] = "stream: OK"; /* followed by the NUL terminator */

static struct sockaddr_un address;
static size_t body_size;
static double deadline;
static uint32_t counter;
static double *latencies;
static size_t latency_count;
static long errors;
static char samples[3][128];
static int sample_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int session_mode;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/// zINSTREAM\0, the body in 64 KiB chunks each behind its big-endian length, the zero terminator.
static unsigned char *frame(size_t size, size_t *length) {
  size_t chunks = (size + CHUNK_BYTES - 1) / CHUNK_BYTES;
  *length = 10 + chunks * 4 + size + 4;
  unsigned char *out = malloc(*length);
  if (out == NULL) return NULL;
  memcpy(out, "zINSTREAM\0", 10);
  size_t at = 10;
  for (size_t done = 0; done < size; done += CHUNK_BYTES) {
    uint32_t piece = size - done < CHUNK_BYTES ? (uint32_t)(size - done) : CHUNK_BYTES;
    out[at] = piece >> 24; out[at + 1] = piece >> 16; out[at + 2] = piece >> 8; out[at + 3] = piece;
    at += 4;
    for (uint32_t i = 0; i < piece; i++) out[at + i] = (unsigned char)rand();
    at += piece;
  }
  memset(out + at, 0, 4);
  return out;
}

static void failed(const char *what) {
  pthread_mutex_lock(&lock);
  errors++;
  if (sample_count < 3) snprintf(samples[sample_count++], sizeof samples[0], "%s", what);
  pthread_mutex_unlock(&lock);
}

/// One object on one connection; the reply read to EOF into `reply` (NUL-terminated by the protocol).
static int once(const unsigned char *request, size_t length, char *reply, size_t capacity, size_t *got) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) { close(fd); return -1; }
  for (size_t sent = 0; sent < length;) {
    ssize_t n = send(fd, request + sent, length - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* the server may answer (an error line) before taking everything: read it */
    sent += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  *got = 0;
  for (;;) {
    ssize_t n = read(fd, reply + *got, capacity - 1 - *got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    *got += (size_t)n;
    if (*got == capacity - 1) break;
  }
  reply[*got] = 0;
  close(fd);
  return 0;
}

/// Writes all of `length` bytes; 0 on success.
static int send_all(int fd, const void *bytes, size_t length) {
  for (size_t sent = 0; sent < length;) {
    ssize_t n = send(fd, (const char *)bytes + sent, length - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    sent += (size_t)n;
  }
  return 0;
}

/// A session's connection, `zIDSESSION\0` sent; -1 on failure.
static int open_session(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0 || send_all(fd, "zIDSESSION", 11) < 0) { close(fd); return -1; }
  return fd;
}

/// One reply of a session: bytes up to its NUL terminator (replies are whole lines, one per
/// request, and this client has one request in flight, so nothing follows it). 0 on success.
static int read_reply(int fd, char *reply, size_t capacity) {
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, reply + got, capacity - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { reply[got] = 0; return -1; }
    got += (size_t)n;
    if (reply[got - 1] == 0) return 0;
    if (got == capacity - 1) { reply[got] = 0; return -1; }
  }
}

struct lane_request { unsigned char *bytes; size_t length; };

/// Session mode: one body after another on one IDSESSION connection (reopened after an error).
static void session_lane(unsigned char *request, size_t length, double *local, size_t *kept) {
  char reply[256], want[64];
  int fd = -1;
  unsigned id = 0;
  while (now_ms() < deadline) {
    if (fd < 0) {
      if ((fd = open_session()) < 0) { failed(strerror(errno)); continue; }
      id = 0;
    }
    uint32_t n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    request[14] = n >> 24; request[15] = n >> 16; request[16] = n >> 8; request[17] = n;
    double started = now_ms();
    snprintf(want, sizeof want, "%u: stream: OK", ++id);
    reply[0] = 0;
    if (send_all(fd, request, length) < 0 || read_reply(fd, reply, sizeof reply) < 0 || strcmp(reply, want) != 0) {
      failed(reply[0] ? reply : strerror(errno));
      close(fd);
      fd = -1;
      continue;
    }
    local[(*kept)++] = now_ms() - started;
    if (*kept == LOCAL_LATENCIES) {
      pthread_mutex_lock(&lock);
      for (size_t i = 0; i < *kept && latency_count < MAX_LATENCIES; i++) latencies[latency_count++] = local[i];
      pthread_mutex_unlock(&lock);
      *kept = 0;
    }
  }
  if (fd >= 0) {
    /* zEND, then the server closes once every reply is out. */
    if (send_all(fd, "zEND", 5) == 0) {
      shutdown(fd, SHUT_WR);
      while (read(fd, reply, sizeof reply) > 0) continue;
    }
    close(fd);
  }
}

static void *lane(void *arg) {
  unsigned char *request = ((struct lane_request *)arg)->bytes;
  size_t length = ((struct lane_request *)arg)->length;
  double local[LOCAL_LATENCIES];
  size_t kept = 0;
  char reply[256];
  size_t got;
  if (session_mode) session_lane(request, length, local, &kept);
  else while (now_ms() < deadline) {
    uint32_t n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    request[14] = n >> 24; request[15] = n >> 16; request[16] = n >> 8; request[17] = n;
    double started = now_ms();
    if (once(request, length, reply, sizeof reply, &got) < 0) { failed(strerror(errno)); continue; }
    if (got != sizeof expected || memcmp(reply, expected, sizeof expected) != 0) { failed(reply); continue; }
    local[kept++] = now_ms() - started;
    if (kept == sizeof local / sizeof local[0]) {
      pthread_mutex_lock(&lock);
      for (size_t i = 0; i < kept && latency_count < MAX_LATENCIES; i++) latencies[latency_count++] = local[i];
      pthread_mutex_unlock(&lock);
      kept = 0;
    }
  }
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < kept && latency_count < MAX_LATENCIES; i++) latencies[latency_count++] = local[i];
  pthread_mutex_unlock(&lock);
  return NULL;
}

/// User plus system CPU of this process (all threads) in ms.
static double cpu_ms(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20 || c > 0x7e) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: %s <unix socket> <body bytes> <concurrency> <seconds> [connection|session]\n", argv[0]);
    return 2;
  }
  if (argc == 6 && strcmp(argv[5], "session") != 0 && strcmp(argv[5], "connection") != 0) { fprintf(stderr, "mode is connection or session\n"); return 2; }
  session_mode = argc == 6 && strcmp(argv[5], "session") == 0;
  address.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof address.sun_path) { fprintf(stderr, "socket path too long\n"); return 2; }
  strcpy(address.sun_path, argv[1]);
  body_size = strtoul(argv[2], NULL, 10);
  int concurrency = atoi(argv[3]);
  double seconds = atof(argv[4]);
  if (body_size < 4 || concurrency < 1 || concurrency > 256 || seconds <= 0) { fprintf(stderr, "bad arguments\n"); return 2; }
  latencies = malloc(sizeof(double) * MAX_LATENCIES);
  if (latencies == NULL) { fprintf(stderr, "out of memory\n"); return 1; }
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  pthread_t threads[256];
  struct lane_request requests[256];
  /* Framed before the clock and the CPU count start: only the load itself is measured. */
  for (int i = 0; i < concurrency; i++) {
    requests[i].bytes = frame(body_size, &requests[i].length);
    if (requests[i].bytes == NULL) { fprintf(stderr, "out of memory\n"); return 1; }
  }
  double cpu_before = cpu_ms();
  double started = now_ms();
  deadline = started + seconds * 1e3;
  for (int i = 0; i < concurrency; i++) pthread_create(&threads[i], NULL, lane, &requests[i]);
  for (int i = 0; i < concurrency; i++) pthread_join(threads[i], NULL);
  double elapsed = (now_ms() - started) / 1e3;
  double cpu = cpu_ms() - cpu_before;
  qsort(latencies, latency_count, sizeof(double), by_value);
  double p50 = latency_count ? latencies[(size_t)(latency_count * 0.5)] : 0;
  double p99 = latency_count ? latencies[(size_t)(latency_count * 0.99) < latency_count ? (size_t)(latency_count * 0.99) : latency_count - 1] : 0;
  printf("{\"requests\":%zu,\"errors\":%ld,\"elapsed\":%.4f,\"p50\":%.3f,\"p99\":%.3f,\"cpuMs\":%.2f,\"errorSamples\":[", latency_count, errors, elapsed, p50, p99, cpu);
  for (int i = 0; i < sample_count; i++) { if (i) putchar(','); json_string(samples[i]); }
  printf("]}\n");
  return 0;
}
