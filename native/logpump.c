/*
 * cejobs log pump: the launcher's fast path for capturing an instance's stdout and stderr.
 *
 * Reading a pipe through Node costs a JavaScript call and a buffer per 64 KiB read, and the
 * records then pass through several string copies; a workload writing hundreds of MB/s keeps
 * the launcher's one thread busy. The pump is one native thread that waits on every captured
 * pipe with epoll, reads up to 1 MiB at a time and appends the records of complete lines to the
 * instance log itself, in the exact format and with the exact rules of src/logs/writer.ts's byte
 * path (record = `<ISO time ms> <o|e> <line>\n`, one time per read, and `<o|e> <line>\n` when
 * the record before it in the file has the same time: src/logs/format.ts).
 *
 * It only does the common case. Whatever needs LogWriter's other rules — a carriage return,
 * invalid UTF-8, a line over MAX_LINE_BYTES (16 KiB), a run of bytes over 16 KiB without a
 * newline, records that would not fit under the cap (rotation), a failed write, a partial line
 * left waiting for `flushMs` — is handed to JavaScript, which runs LogWriter on it. While one is
 * handed over, the attempt is paused (neither pipe is read, the pump's log descriptor is closed
 * because LogWriter may rotate the file) until JavaScript calls resume() with the partial line
 * LogWriter kept, so the file has one writer at a time and records stay in order.
 *
 * Contract (used by src/launcher/log-pump.ts):
 *
 *   pumpOpen(onEvent, fixedTimeMs)   once per process; starts the thread. fixedTimeMs >= 0
 *                                    stamps every record with that time (tests compare
 *                                    against LogWriter with a fixed clock); -1 = the clock.
 *   pumpAdd(id, stdoutFd, stderrFd, logPath, maxBytes, flushMs)   (without waking the pump)
 *                                    takes ownership of both read ends (made non-blocking)
 *   pumpResume(id, stream, partial, writerOnly, lastTime)
 *                                    ends a hand-over: `partial` is what LogWriter kept of the
 *                                    stream (an incomplete line); lastTime the time of the last
 *                                    record in the file (NaN: unknown). Always called once per
 *                                    'slow'/'flush' event. writerOnly: hand every read to
 *                                    LogWriter until a later resume says otherwise (it owes the
 *                                    log a note about bytes it dropped on a full disk).
 *   pumpKeepAlive(on)                while on, pending events keep Node's event loop alive (the
 *                                    JavaScript side turns it on while it captures anything)
 *   pumpRelease(id)                  closes both pipes now (the drain time is over); the 'eof'
 *                                    event follows (after the resume of a pending hand-over).
 *
 *   onEvent(kind, id, a, b, lastTime): lastTime = the time of the last record the pump wrote to
 *                   the file, or that the last resume gave it (NaN: unknown) — for LogWriter, so
 *                   it writes the record after it short or full as the pump would have.
 *     kind 0 'slow':  a = stream (0 stdout, 1 stderr), b = bytes to give LogWriter.write
 *                     (the held partial line first); answer with pumpResume.
 *     kind 1 'flush': a = stream, b = the partial line that waited flushMs: write, flush and
 *                     answer with pumpResume.
 *     kind 2 'eof':   both pipes are closed (end of file, or released); a, b = the partial
 *                     lines of stdout and stderr, still without their newline. The id is free.
 *
 * maxBytes must already be LogWriter's effective cap (at least 4096).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logpump.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_LINE_BYTES 16384
#define READ_BYTES (1 << 20)
#define OUT_BYTES (4 << 20)
#define PREFIX_BYTES 27 /* a full record's `<ISO time> <c> ` */
#define SHORT_BYTES 2    /* a short record's `<c> ` */
#define NO_TIME INT64_MIN

typedef struct attempt attempt;

typedef struct {
  attempt *a;
  int stream;
  int fd; /* -1 once closed */
  char *partial;
  size_t partial_len;
  int64_t last_data_ms; /* monotonic time of the last read, for the partial-line flush */
  int flushed;          /* the partial was flushed once and nothing came since: no second flush */
} end;

struct attempt {
  int64_t id;
  end ends[2];
  char *path;
  int log_fd;
  int64_t size;
  int64_t last_time; /* time of the last record in the file (NO_TIME: none or unknown) */
  int64_t max_bytes;
  int64_t flush_ms;
  int paused;
  int writer_only;
  int release_requested;
  attempt *next;
};

typedef enum { CMD_ADD, CMD_RESUME, CMD_RELEASE } cmd_kind;

typedef struct cmd {
  cmd_kind kind;
  int64_t id;
  int stream;
  int writer_only; /* CMD_RESUME */
  int64_t last_time; /* CMD_RESUME */
  attempt *a;    /* CMD_ADD */
  char *data;    /* CMD_RESUME */
  size_t len;
  struct cmd *next;
} cmd;

typedef struct {
  int kind;
  int64_t id;
  int stream;
  int64_t last_time;
  char *a;
  size_t a_len;
  char *b;
  size_t b_len;
} event;

static napi_threadsafe_function tsfn;
static int epfd = -1, wakefd = -1;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static cmd *queue_head, *queue_tail;
static int queue_woken; /* the wake-up of the queued commands is written (under queue_lock) */
static attempt *attempts;
static unsigned freed; /* attempts freed so far: an event batch may point into a freed one */
static int64_t fixed_time_ms = -1;
static char data_buf[MAX_LINE_BYTES + READ_BYTES];
static char out_buf[OUT_BYTES];

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The time stamped on the records of one read (epoch ms). */
static int64_t record_time(void) {
  if (fixed_time_ms >= 0) return fixed_time_ms;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `<ISO-8601 ms>Z <o|e> ` as Date.prototype.toISOString writes it; 0 when the year has not 4 digits. */
static int make_prefix(char *p, int64_t ms, int stream) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1970) return 0;
  char tmp[40];
  int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %c ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (int)(ms % 1000), stream == 0 ? 'o' : 'e');
  if (n != PREFIX_BYTES) return 0;
  memcpy(p, tmp, PREFIX_BYTES);
  return 1;
}

/*
 * 1 when `s` holds no '\r' and is well-formed UTF-8 (no overlongs, surrogates or code points over
 * U+10FFFF, as Node's isUtf8): text the pump writes itself; LogWriter handles the rest. ASCII
 * runs are checked 16 bytes at a time (SSE2; 8 with plain 64-bit words elsewhere): one pass over
 * a read instead of a '\r' search and a UTF-8 walk.
 */
static int plain_text(const unsigned char *s, size_t n) {
  size_t i = 0;
  for (;;) {
#if defined(__SSE2__)
    const __m128i cr = _mm_set1_epi8('\r');
    while (i + 16 <= n) {
      __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr))) return 0;
      if (_mm_movemask_epi8(v)) break; /* a byte ≥ 0x80: the UTF-8 rules below */
      i += 16;
    }
#endif
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      uint64_t x = w ^ 0x0d0d0d0d0d0d0d0dULL; /* a zero byte where w has '\r' */
      if ((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL) return 0;
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) return 1;
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == '\r') return 0;
      i++;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c == 0xe0) need = 2, lo = 0xa0;
    else if (c == 0xed) need = 2, hi = 0x9f;
    else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c == 0xf0) need = 3, lo = 0x90;
    else if (c == 0xf4) need = 3, hi = 0x8f;
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else return 0;
    if (i + need >= n) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k <= need; k++)
      if ((s[i + k] & 0xc0) != 0x80) return 0;
    i += need + 1;
  }
}

static void post(int kind, attempt *a, int stream, const char *x, size_t x_len, const char *y, size_t y_len) {
  event *e = calloc(1, sizeof *e);
  if (!e) abort(); /* losing an event would lose log lines and hang the attempt */
  e->kind = kind;
  e->id = a->id;
  e->stream = stream;
  e->last_time = a->last_time;
  e->a = malloc(x_len ? x_len : 1);
  e->b = malloc(y_len ? y_len : 1);
  if (!e->a || !e->b) abort();
  memcpy(e->a, x, x_len);
  e->a_len = x_len;
  if (y_len) memcpy(e->b, y, y_len);
  e->b_len = y_len;
  napi_call_threadsafe_function(tsfn, e, napi_tsfn_blocking);
}

static void close_log(attempt *a) {
  if (a->log_fd >= 0) close(a->log_fd);
  a->log_fd = -1;
}

static void arm(attempt *a) {
  for (int s = 0; s < 2; s++) {
    if (a->ends[s].fd < 0) continue;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = &a->ends[s]};
    epoll_ctl(epfd, EPOLL_CTL_MOD, a->ends[s].fd, &ev);
  }
}

/* Hands `len` bytes of `data` of a stream to JavaScript (kind 0 or 1) and pauses the attempt. */
static void hand_over(attempt *a, int kind, int stream, const char *data, size_t len) {
  a->paused = 1;
  a->ends[stream].flushed = kind == 1;
  close_log(a);
  post(kind, a, stream, (const char *)&stream, 0, data, len);
}

static int set_partial(end *e, const char *p, size_t len) {
  char *np = realloc(e->partial, len ? len : 1);
  if (!np) return 0;
  e->partial = np;
  memcpy(e->partial, p, len);
  e->partial_len = len;
  return 1;
}

/* Appends the records of the complete lines `body` (ending with '\n'); 0 = needs LogWriter. */
static int append_lines(attempt *a, int stream, const char *body, size_t len) {
  /* Every record of one read is built in `out_buf` before anything is written (a record takes at
     most 3× its line: an empty line gets a 2-byte prefix), so a line LogWriter must handle is
     found before the file changes. A read is at most READ_BYTES after a partial line. */
  if (len * 3 + PREFIX_BYTES > OUT_BYTES || !plain_text((const unsigned char *)body, len)) return 0;
  if (a->log_fd < 0) {
    a->log_fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    struct stat st;
    if (a->log_fd < 0 || fstat(a->log_fd, &st) < 0) {
      close_log(a);
      return 0;
    }
    a->size = st.st_size;
    if (a->size == 0) a->last_time = NO_TIME; /* a new file starts with a full record */
  }
  int64_t t = record_time();
  const char tag = stream == 0 ? 'o' : 'e';
  size_t o = 0;
  const char *p = body, *end_ = body + len;
  const char *nl = memchr(p, '\n', len);
  if ((size_t)(nl - p) > MAX_LINE_BYTES) return 0;
  /* The first record is short when the file's last record has this time; the others always are. */
  if (t != a->last_time) {
    if (!make_prefix(out_buf, t, stream)) return 0;
    o = PREFIX_BYTES;
  } else {
    out_buf[0] = tag, out_buf[1] = ' ';
    o = SHORT_BYTES;
  }
  for (;;) {
    size_t n = (size_t)(nl - p) + 1;
    memcpy(out_buf + o, p, n);
    o += n;
    p = nl + 1;
    if (p >= end_) break;
    nl = memchr(p, '\n', end_ - p);
    if ((size_t)(nl - p) > MAX_LINE_BYTES) return 0;
    out_buf[o] = tag, out_buf[o + 1] = ' ';
    o += SHORT_BYTES;
  }
  if (a->size + (int64_t)o > a->max_bytes) return 0;
  ssize_t w = write(a->log_fd, out_buf, o);
  if (w != (ssize_t)o) {
    /* Whole records or nothing: LogWriter retries them and counts what it cannot write. */
    if (ftruncate(a->log_fd, a->size) < 0) { /* the reader skips what does not parse */ }
    close_log(a);
    return 0;
  }
  a->size += w;
  a->last_time = t;
  return 1;
}

/* One read's worth of a stream: `data` is the held partial line followed by the new bytes. */
static void consume(attempt *a, end *e, char *data, size_t len) {
  if (a->writer_only) {
    e->partial_len = 0;
    hand_over(a, 0, e->stream, data, len);
    return;
  }
  const char *nl = memrchr(data, '\n', len);
  size_t body = nl ? (size_t)(nl - data) + 1 : 0;
  if (body > 0 && !append_lines(a, e->stream, data, body)) {
    e->partial_len = 0;
    hand_over(a, 0, e->stream, data, len);
    return;
  }
  size_t rest = len - body;
  if (rest > MAX_LINE_BYTES) {
    e->partial_len = 0;
    hand_over(a, 0, e->stream, data + body, rest);
    return;
  }
  if (!set_partial(e, data + body, rest)) {
    e->partial_len = 0;
    hand_over(a, 0, e->stream, data + body, rest);
  }
}

static void free_attempt(attempt *a) {
  for (attempt **p = &attempts; *p; p = &(*p)->next)
    if (*p == a) {
      *p = a->next;
      break;
    }
  close_log(a);
  free(a->ends[0].partial);
  free(a->ends[1].partial);
  free(a->path);
  free(a);
  freed++;
}

static void close_end(end *e) {
  if (e->fd < 0) return;
  epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
  close(e->fd);
  e->fd = -1;
}

static void finish_if_done(attempt *a) {
  if (a->ends[0].fd >= 0 || a->ends[1].fd >= 0 || a->paused) return;
  post(2, a, -1, a->ends[0].partial, a->ends[0].partial_len, a->ends[1].partial, a->ends[1].partial_len);
  free_attempt(a);
}

/* Reads what `e` holds; `event`: woken for it (its one-shot registration is spent: re-arm). */
static void read_end(end *e, int event) {
  attempt *a = e->a;
  if (a->paused || e->fd < 0) return; /* re-armed by resume */
  if (e->partial_len) memcpy(data_buf, e->partial, e->partial_len);
  ssize_t n;
  do n = read(e->fd, data_buf + e->partial_len, READ_BYTES);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    e->last_data_ms = mono_ms();
    e->flushed = 0;
    consume(a, e, data_buf, e->partial_len + (size_t)n);
    if (!a->paused) arm(a);
    return;
  }
  if (n < 0 && errno == EAGAIN) {
    if (event) arm(a);
    return;
  }
  close_end(e); /* end of file, or an error: nothing more will come */
  /* The other pipe of a process that ended is mostly at its end too: read it now instead of
     waking up again for it (a wake-up per instance, with short-lived instances). */
  end *o = &a->ends[e->stream ^ 1];
  if (o->fd >= 0 && !a->paused) {
    unsigned before = freed;
    read_end(o, 0);
    if (freed != before) return; /* that finished the attempt */
  }
  finish_if_done(a);
}

static void on_readable(end *e) { read_end(e, 1); }

static attempt *find(int64_t id) {
  for (attempt *a = attempts; a; a = a->next)
    if (a->id == id) return a;
  return NULL;
}

static void run_command(cmd *c) {
  if (c->kind == CMD_ADD) { /* its pipes were registered by pumpAdd */
    attempt *a = c->a;
    a->next = attempts;
    attempts = a;
    finish_if_done(a);
    return;
  }
  attempt *a = find(c->id);
  if (!a) return;
  if (c->kind == CMD_RESUME) {
    end *e = &a->ends[c->stream & 1];
    if (!set_partial(e, c->data, c->len)) e->partial_len = 0;
    e->last_data_ms = mono_ms();
    a->paused = 0;
    a->writer_only = c->writer_only;
    a->last_time = c->last_time;
    if (a->release_requested) c->kind = CMD_RELEASE;
    else {
      arm(a);
      finish_if_done(a);
      return;
    }
  }
  if (a->paused) {
    a->release_requested = 1;
    return;
  }
  close_end(&a->ends[0]);
  close_end(&a->ends[1]);
  finish_if_done(a);
}

/* The nearest partial-line flush deadline, as an epoll timeout; flushes the due ones. */
static int flush_due(void) {
  int64_t now = mono_ms(), next = -1;
  for (attempt *a = attempts, *n; a; a = n) {
    n = a->next;
    if (a->paused) continue;
    for (int s = 0; s < 2 && !a->paused; s++) {
      end *e = &a->ends[s];
      if (e->partial_len == 0 || e->flushed) continue;
      int64_t due = e->last_data_ms + a->flush_ms;
      if (due <= now) {
        size_t len = e->partial_len;
        e->partial_len = 0;
        hand_over(a, 1, s, e->partial, len);
      } else if (next < 0 || due - now < next) next = due - now;
    }
  }
  return next < 0 ? -1 : (int)(next > 60000 ? 60000 : next);
}

/* Drops the events of `evs[from..n)` whose attempt is gone. */
static void forget_stale(struct epoll_event *evs, int from, int n) {
  for (int k = from; k < n; k++) {
    end *e = evs[k].data.ptr;
    if (!e) continue;
    int live = 0;
    for (attempt *a = attempts; a && !live; a = a->next) live = (a == e->a);
    if (!live) evs[k].events = 0;
  }
}

/* Takes and runs every queued command; after each epoll_wait, before its events are handled. */
static void run_queue(void) {
  pthread_mutex_lock(&queue_lock);
  cmd *c = queue_head;
  queue_head = queue_tail = NULL;
  queue_woken = 0;
  pthread_mutex_unlock(&queue_lock);
  while (c) {
    cmd *next = c->next;
    run_command(c);
    free(c->data);
    free(c);
    c = next;
  }
}

/*
 * The queue is taken after every wake-up, before the wake-up's events are handled: pumpAdd
 * registers an attempt's pipes and queues it under the queue's lock, so the attempt of every
 * event is known by then. That is why adding an attempt needs no wake-up of its own.
 */
static void *pump_main(void *arg) {
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(epfd, evs, 64, flush_due());
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr != NULL) continue;
      uint64_t v;
      if (read(wakefd, &v, sizeof v) < 0) { /* already read: a wake-up raced with the last take */ }
      evs[i].events = 0;
    }
    unsigned before = freed;
    run_queue();
    if (freed != before) forget_stale(evs, 0, n);
    for (int i = 0; i < n; i++) {
      if (evs[i].events == 0) continue;
      before = freed;
      on_readable(evs[i].data.ptr);
      if (freed != before) forget_stale(evs, i + 1, n);
    }
  }
  return NULL;
}

static void wake_pump(void) {
  uint64_t one = 1;
  if (write(wakefd, &one, sizeof one) < 0) { /* the counter is full: the pump is awake anyway */ }
}

/* Appends `c` under queue_lock; 1 when the caller must wake the pump (after unlocking). */
static int append_locked(cmd *c, int wake) {
  if (queue_tail) queue_tail->next = c;
  else queue_head = c;
  queue_tail = c;
  int write_wake = wake && !queue_woken;
  if (write_wake) queue_woken = 1;
  return write_wake;
}

/*
 * Queues a command; `wake`: the pump must wake up for it (otherwise it is taken at the next
 * wake-up, whatever its cause). One wake-up per batch: the pump takes the whole queue.
 */
static void push(cmd *c, int wake) {
  pthread_mutex_lock(&queue_lock);
  int write_wake = append_locked(c, wake);
  pthread_mutex_unlock(&queue_lock);
  if (write_wake) wake_pump();
}

/* A command for an attempt by id; `data` is copied. */
static void push_command(cmd_kind kind, int64_t id, int stream, bool writer_only, int64_t last_time, const void *data, size_t len) {
  cmd *c = calloc(1, sizeof *c);
  char *copy = malloc(len ? len : 1);
  if (!c || !copy) abort(); /* a lost resume or release would leave the attempt paused for ever */
  if (len) memcpy(copy, data, len);
  c->kind = kind;
  c->id = id;
  c->stream = stream;
  c->writer_only = writer_only;
  c->last_time = last_time;
  c->data = copy;
  c->len = len;
  push(c, 1);
}

static void call_js(napi_env env, napi_value cb, void *context, void *data) {
  event *e = data;
  if (env && cb) {
    napi_value argv[5], undef;
    napi_create_int32(env, e->kind, &argv[0]);
    napi_create_double(env, (double)e->id, &argv[1]);
    void *unused;
    if (e->kind == 2) {
      napi_create_buffer_copy(env, e->a_len, e->a, &unused, &argv[2]);
    } else {
      napi_create_int32(env, e->stream, &argv[2]);
    }
    napi_create_buffer_copy(env, e->b_len, e->b, &unused, &argv[3]);
    napi_create_double(env, e->last_time == NO_TIME ? NAN : (double)e->last_time, &argv[4]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, cb, 5, argv, NULL);
  }
  free(e->a);
  free(e->b);
  free(e);
}

static napi_value PumpOpen(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (epfd >= 0) {
    napi_throw_error(env, NULL, "pumpOpen: the pump is already open");
    return NULL;
  }
  if (argc >= 2) {
    int64_t t = -1;
    if (napi_get_value_int64(env, args[1], &t) == napi_ok) fixed_time_ms = t;
  }
  napi_value name;
  napi_create_string_utf8(env, "cejobs_logpump", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, args[0], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &tsfn) != napi_ok) {
    napi_throw_error(env, NULL, "pumpOpen: cannot create the event channel");
    return NULL;
  }
  napi_unref_threadsafe_function(env, tsfn);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (epfd < 0 || wakefd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) < 0 || pthread_create(&t, &attr, pump_main, NULL) != 0) {
    napi_throw_error(env, NULL, "pumpOpen: cannot start the pump thread");
    return NULL;
  }
  return NULL;
}

static napi_value PumpAdd(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int64_t id = 0, max_bytes = 0, flush_ms = 0;
  int32_t fds[2] = {-1, -1};
  size_t path_len = 0;
  if (epfd < 0 || argc < 6 || napi_get_value_int64(env, args[0], &id) != napi_ok || napi_get_value_int32(env, args[1], &fds[0]) != napi_ok ||
      napi_get_value_int32(env, args[2], &fds[1]) != napi_ok || napi_get_value_string_utf8(env, args[3], NULL, 0, &path_len) != napi_ok ||
      napi_get_value_int64(env, args[4], &max_bytes) != napi_ok || napi_get_value_int64(env, args[5], &flush_ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "pumpAdd(id, stdoutFd, stderrFd, logPath, maxBytes, flushMs) after pumpOpen");
    return NULL;
  }
  attempt *a = calloc(1, sizeof *a);
  cmd *c = calloc(1, sizeof *c);
  char *path = malloc(path_len + 1);
  if (!a || !c || !path) {
    free(a), free(c), free(path);
    napi_throw_error(env, NULL, "pumpAdd: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, args[3], path, path_len + 1, &path_len);
  a->id = id;
  a->path = path;
  a->log_fd = -1;
  a->last_time = NO_TIME;
  a->max_bytes = max_bytes;
  a->flush_ms = flush_ms;
  c->kind = CMD_ADD;
  c->a = a;
  /* Registered and queued under the queue's lock: the pump takes the queue (run_queue) after
     every wake-up and before its events, so it knows the attempt before any event of its pipes,
     and both are registered before it can read either (it reads one end at the other's end of
     file). Queued without a wake-up — the pipes' first event wakes the pump — unless an end is
     closed already: then the pump may have to finish the attempt without one. */
  int closed = 0;
  pthread_mutex_lock(&queue_lock);
  for (int s = 0; s < 2; s++) {
    a->ends[s].a = a;
    a->ends[s].stream = s;
    a->ends[s].fd = -1;
    /* Read ends of fresh pipes: O_NONBLOCK is their only status flag. */
    if (fcntl(fds[s], F_SETFL, O_NONBLOCK) == 0) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = &a->ends[s]};
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[s], &ev) == 0) a->ends[s].fd = fds[s];
      else close(fds[s]);
    }
    closed |= a->ends[s].fd < 0;
  }
  int write_wake = append_locked(c, closed);
  pthread_mutex_unlock(&queue_lock);
  if (write_wake) wake_pump();
  return NULL;
}

static napi_value PumpResume(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int64_t id = 0;
  int32_t stream = 0;
  void *data = NULL;
  size_t len = 0;
  bool writer_only = false;
  double last = NAN;
  if (argc < 5 || napi_get_value_int64(env, args[0], &id) != napi_ok || napi_get_value_int32(env, args[1], &stream) != napi_ok ||
      napi_get_buffer_info(env, args[2], &data, &len) != napi_ok || napi_get_value_bool(env, args[3], &writer_only) != napi_ok ||
      napi_get_value_double(env, args[4], &last) != napi_ok) {
    napi_throw_type_error(env, NULL, "pumpResume(id, stream, partial: Buffer, writerOnly: boolean, lastTime: number)");
    return NULL;
  }
  push_command(CMD_RESUME, id, stream, writer_only, isnan(last) ? NO_TIME : (int64_t)last, data, len);
  return NULL;
}

static napi_value PumpRelease(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  int64_t id = 0;
  if (argc < 1 || napi_get_value_int64(env, arg, &id) != napi_ok) {
    napi_throw_type_error(env, NULL, "pumpRelease(id)");
    return NULL;
  }
  push_command(CMD_RELEASE, id, 0, false, NO_TIME, NULL, 0);
  return NULL;
}

static napi_value PumpKeepAlive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  bool on = false;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (epfd < 0 || argc < 1 || napi_get_value_bool(env, arg, &on) != napi_ok) {
    napi_throw_type_error(env, NULL, "pumpKeepAlive(on: boolean) after pumpOpen");
    return NULL;
  }
  if (on) napi_ref_threadsafe_function(env, tsfn);
  else napi_unref_threadsafe_function(env, tsfn);
  return NULL;
}

void logpump_register(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"pumpOpen", PumpOpen}, {"pumpAdd", PumpAdd}, {"pumpResume", PumpResume}, {"pumpRelease", PumpRelease}, {"pumpKeepAlive", PumpKeepAlive}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
