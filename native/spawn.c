/*
 * cejobs_spawn: the launcher's fast path for starting an instance.
 *
 * Node's child_process.spawn fork()s the whole launcher (page tables of a ~100 MB process) and
 * a cgroup join needs a `sh` wrapper on top; together about 3 ms of CPU per instance. This addon
 * starts the workload with vfork() semantics instead (the parent is suspended and shares its
 * memory until the child execs) and does in the child, between vfork and exec, what the wrapper
 * did: join the attempt's cgroups. Only async-signal-safe calls run in the child.
 *
 * Contract (used by src/launcher/child.ts):
 *
 *   spawn(file, argv, envp, cwd, procsFiles, uid, gid, makeDirs)
 *     → Promise<{ pid, stdout, stderr, procStart }>   pid of a new session leader (setsid),
 *                                    running `file`, with stdin on /dev/null and stdout/stderr
 *                                    on two pipes whose read ends (O_CLOEXEC) are returned;
 *                                    procStart = field 22 of /proc/<pid>/stat (its start time,
 *                                    which tells it from a later process with the same pid),
 *                                    read on the pool thread; null when it already ended
 *     rejects with Error { code: 'ESPAWN', errno, step } when the child could not get to exec;
 *                                    the child has been reaped, nothing is left behind.
 *     uid/gid: -1 keeps the launcher's identity; otherwise setgroups([]), setgid, setuid.
 *     makeDirs: directories the child creates first, in order, where missing (mode 0777 less
 *                                    the umask, the launcher's identity): the attempt's scratch
 *                                    directory. Made in the child, a directory costs neither the
 *                                    launcher's nor the server's thread (it is among the dearest
 *                                    system calls per instance on a busy disk).
 *
 *   The vfork happens on a libuv pool thread, never on the JavaScript thread: vfork suspends
 *   the calling thread until the child execs, and joining a cgroup (a write to cgroup.procs)
 *   can take the kernel milliseconds (cgroup v1 migration waits for RCU). Only that pool
 *   thread waits; the child runs on its stack, with every signal blocked until it has reset
 *   their dispositions, so no handler of the launcher can run in it.
 *
 *   The addon also holds the log pump (logpump.c: pumpOpen, pumpAdd, pumpResume, pumpRelease).
 *
 *   signal(pid, signo) → 0, or the errno of kill(2) (ESRCH: no such process). Never throws:
 *     signalling what may be gone is routine, and a JavaScript exception per call is not free.
 *
 *   reap(pids) → [[pid, kind, value], ...] for each pid in `pids` that has ended (waitpid
 *     WNOHANG): kind 0 = exited with code `value`, 1 = killed by signal number `value`.
 *     Only the given pids are waited for, so Node's own children stay libuv's. Which ones
 *     ended is asked of the kernel (waitid WNOWAIT), not of each pid in turn: one system call
 *     when nothing ended, however many daemons run; each pid in turn only when a child of
 *     Node's has ended too and hides the others.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <node_api.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logpump.h"

#define STEP_SETSID 1
#define STEP_CGROUP 2
#define STEP_STDIO 3
#define STEP_USER 4
#define STEP_CWD 5
#define STEP_EXEC 6

static const char *step_names[] = {"", "setsid", "cgroup", "stdio", "user", "chdir", "exec"};

typedef struct {
  char *file;
  char **argv;
  char **envp;
  char *cwd;
  char **procs;
  char **dirs;
  int uid;
  int gid;
  int out[2];
  int err[2];
  /* Written by the child before it gives up (it shares this memory until exec or exit, and the
     parent resumes only then): the step that failed, and its errno. No pipe for this: a pipe's
     write end would be copied into every child vforked meanwhile by other pool threads, and
     its end of file would wait for all of them to exec (their cgroup joins take milliseconds). */
  volatile int child_step;
  volatile int child_errno;
} spawn_req;

static void free_list(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) free(*p);
  free(list);
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static char **get_string_list(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **list = calloc(n + 1, sizeof(char *));
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_get_element(env, arr, i, &item);
    list[i] = get_string(env, item);
    if (!list[i]) {
      free_list(list);
      return NULL;
    }
  }
  return list;
}

/* The child: async-signal-safe calls only (it shares the parent's memory until exec). */
static void child_fail(spawn_req *r, int step) {
  r->child_errno = errno;
  r->child_step = step;
  _exit(127);
}

static int write_pid(int fd, pid_t pid) {
  char buf[24];
  int i = sizeof buf;
  do {
    buf[--i] = (char)('0' + pid % 10);
    pid /= 10;
  } while (pid > 0 && i > 0);
  return write(fd, buf + i, sizeof buf - i) == (ssize_t)(sizeof buf - i) ? 0 : -1;
}

/* /dev/null, opened once (close-on-exec; dup2 makes the child's stdin inheritable). */
static int dev_null = -1;
static pthread_once_t dev_null_once = PTHREAD_ONCE_INIT;
static void open_dev_null(void) {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && fd <= 2) { /* dup2 onto itself would keep close-on-exec: keep it above stdio */
    int above = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    fd = above;
  }
  dev_null = fd;
}

static void run_child(spawn_req *r) {
  /* Before the cgroup join: the instance's cgroups are not charged for its directory. */
  for (char **d = r->dirs; d && *d; d++)
    if (mkdir(*d, 0777) < 0 && errno != EEXIST) child_fail(r, STEP_CWD);
  if (setsid() < 0) child_fail(r, STEP_SETSID);
  pid_t self = (pid_t)syscall(SYS_getpid);
  for (char **p = r->procs; p && *p; p++) {
    int fd = open(*p, O_WRONLY | O_CLOEXEC);
    if (fd < 0) child_fail(r, STEP_CGROUP);
    if (write_pid(fd, self) < 0) child_fail(r, STEP_CGROUP);
    close(fd);
  }
  int in = dev_null >= 0 ? dev_null : open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0 || dup2(r->out[1], 1) < 0 || dup2(r->err[1], 2) < 0) child_fail(r, STEP_STDIO);
  if (in > 2 && in != dev_null) close(in);
  if (r->uid >= 0) {
    if (setgroups(0, NULL) < 0 && errno != EPERM) child_fail(r, STEP_USER);
    if (setgid((gid_t)r->gid) < 0 || setuid((uid_t)r->uid) < 0) child_fail(r, STEP_USER);
  }
  if (chdir(r->cwd) < 0) child_fail(r, STEP_CWD);
  /* Like libuv: the workload starts with default dispositions and nothing blocked. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, NULL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(r->file, r->argv, r->envp);
  child_fail(r, STEP_EXEC);
}

static void close_pair(int p[2]) {
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
}

typedef struct {
  spawn_req r;
  napi_async_work work;
  napi_deferred deferred;
  pid_t pid;
  char proc_start[32]; /* field 22 of /proc/<pid>/stat; empty when unknown or already a zombie */
  int fail_step;
  int fail_errno;
} spawn_job;

static void free_job(spawn_job *j) {
  close_pair(j->r.out);
  close_pair(j->r.err);
  free(j->r.file);
  free(j->r.cwd);
  free_list(j->r.argv);
  free_list(j->r.envp);
  free_list(j->r.procs);
  free_list(j->r.dirs);
  free(j);
}

/* Field 22 (starttime) of /proc/<pid>/stat into `out`; empty when unreadable or a zombie. */
static void read_start_time(pid_t pid, char *out, size_t cap) {
  out[0] = 0;
  char path[32];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
  if (!p || p[1] != ' ') return;
  p += 2; /* field 3: the state */
  if (*p == 'Z') return;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return;
    p++;
  }
  size_t len = strcspn(p, " ");
  if (len == 0 || len >= cap) return;
  memcpy(out, p, len);
  out[len] = 0;
}

/* On a pool thread: only this thread is suspended by vfork. */
static void spawn_execute(napi_env env, void *data) {
  spawn_job *j = data;
  spawn_req *r = &j->r;
  pthread_once(&dev_null_once, open_dev_null);
  if (pipe2(r->out, O_CLOEXEC) < 0 || pipe2(r->err, O_CLOEXEC) < 0) {
    j->fail_step = STEP_STDIO;
    j->fail_errno = errno;
    return;
  }
  /* A chatty workload blocks less often on a bigger stdout pipe (the default is 64 KiB): fewer
     wake-ups of the launcher per megabyte. Best effort: the limit may be lower. */
  if (fcntl(r->out[1], F_SETPIPE_SZ, 1 << 20) < 0) {
    int ignored = fcntl(r->out[1], F_SETPIPE_SZ, 256 << 10);
    (void)ignored;
  }
  /* No signal handler of the launcher may run in the child while it shares our memory. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = vfork();
  if (pid == 0) run_child(r); /* never returns */
  int vfork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    j->fail_step = STEP_EXEC;
    j->fail_errno = vfork_errno;
    return;
  }
  if (r->child_step) { /* it exited without exec: reap it */
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    j->fail_step = r->child_step;
    j->fail_errno = r->child_errno;
    return;
  }
  close(r->out[1]);
  r->out[1] = -1;
  close(r->err[1]);
  r->err[1] = -1;
  j->pid = pid;
  read_start_time(pid, j->proc_start, sizeof j->proc_start);
}

static napi_value spawn_error(napi_env env, int step, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s failed: %s", step_names[step], strerror(err));
  napi_value message, error, code, errno_v, step_v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_string_utf8(env, "ESPAWN", NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, err, &errno_v);
  napi_create_string_utf8(env, step_names[step], NAPI_AUTO_LENGTH, &step_v);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_set_named_property(env, error, "step", step_v);
  return error;
}

static void spawn_complete(napi_env env, napi_status status, void *data) {
  spawn_job *j = data;
  if (j->fail_step || status != napi_ok) {
    napi_reject_deferred(env, j->deferred, spawn_error(env, j->fail_step ? j->fail_step : STEP_EXEC, j->fail_step ? j->fail_errno : ECANCELED));
  } else {
    napi_value result, pid_v, out_v, err_v, start_v;
    napi_create_object(env, &result);
    napi_create_int32(env, j->pid, &pid_v);
    napi_create_int32(env, j->r.out[0], &out_v);
    napi_create_int32(env, j->r.err[0], &err_v);
    napi_set_named_property(env, result, "pid", pid_v);
    napi_set_named_property(env, result, "stdout", out_v);
    napi_set_named_property(env, result, "stderr", err_v);
    if (j->proc_start[0]) napi_create_string_utf8(env, j->proc_start, NAPI_AUTO_LENGTH, &start_v);
    else napi_get_null(env, &start_v);
    napi_set_named_property(env, result, "procStart", start_v);
    j->r.out[0] = j->r.err[0] = -1; /* now owned by the caller */
    napi_resolve_deferred(env, j->deferred, result);
  }
  napi_delete_async_work(env, j->work);
  free_job(j);
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value args[8];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd, procsFiles, uid, gid, makeDirs)");
    return NULL;
  }
  spawn_job *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "spawn: out of memory");
    return NULL;
  }
  spawn_req *r = &j->r;
  r->out[0] = r->out[1] = r->err[0] = r->err[1] = -1;
  r->file = get_string(env, args[0]);
  r->argv = get_string_list(env, args[1]);
  r->envp = get_string_list(env, args[2]);
  r->cwd = get_string(env, args[3]);
  r->procs = get_string_list(env, args[4]);
  r->dirs = get_string_list(env, args[7]);
  int32_t uid = -1, gid = -1;
  napi_get_value_int32(env, args[5], &uid);
  napi_get_value_int32(env, args[6], &gid);
  r->uid = uid;
  r->gid = gid;
  if (!r->file || !r->argv || !r->envp || !r->cwd || !r->procs || !r->dirs) {
    free_job(j);
    napi_throw_type_error(env, NULL, "spawn: bad arguments");
    return NULL;
  }
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "cejobs_spawn", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, spawn_execute, spawn_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static void push_reaped(napi_env env, napi_value out, uint32_t *k, pid_t pid, int status) {
  napi_value entry, v;
  napi_create_array_with_length(env, 3, &entry);
  napi_create_int32(env, pid, &v);
  napi_set_element(env, entry, 0, v);
  napi_create_int32(env, WIFSIGNALED(status) ? 1 : 0, &v);
  napi_set_element(env, entry, 1, v);
  napi_create_int32(env, WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), &v);
  napi_set_element(env, entry, 2, v);
  napi_set_element(env, out, (*k)++, entry);
}

/* The pid of a child that has ended, without reaping it; 0 when none has (or there are none). */
static pid_t peek_ended(void) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int w;
  do w = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
  while (w < 0 && errno == EINTR);
  return w == 0 ? si.si_pid : 0;
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arr;
  napi_get_cb_info(env, info, &argc, &arr, NULL, NULL);
  uint32_t n = 0;
  napi_value out;
  napi_create_array(env, &out);
  if (argc < 1 || napi_get_array_length(env, arr, &n) != napi_ok || n == 0) return out;
  pid_t ended = peek_ended();
  if (ended <= 0) return out; /* the common case of a watch tick: nothing ended */
  pid_t *pids = malloc(n * sizeof *pids);
  if (!pids) return out;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    int32_t pid = 0;
    napi_get_element(env, arr, i, &item);
    if (napi_get_value_int32(env, item, &pid) != napi_ok || pid <= 0) pid = 0;
    pids[i] = pid;
  }
  /* Ask the kernel which child ended instead of asking about each pid: with hundreds of
     daemons, a watch tick or one restart would otherwise cost hundreds of waitpid calls. */
  uint32_t k = 0;
  int ask_each = 0;
  for (; ended > 0; ended = peek_ended()) {
    uint32_t i = 0;
    while (i < n && pids[i] != ended) i++;
    if (i == n) { /* not ours (one of Node's children, libuv reaps it): ask about ours one by one */
      ask_each = 1;
      break;
    }
    int status;
    pid_t got;
    do got = waitpid(ended, &status, WNOHANG);
    while (got < 0 && errno == EINTR);
    pids[i] = 0;
    if (got == ended) push_reaped(env, out, &k, ended, status);
  }
  for (uint32_t i = 0; ask_each && i < n; i++) {
    if (pids[i] <= 0) continue;
    int status;
    pid_t got;
    do got = waitpid(pids[i], &status, WNOHANG);
    while (got < 0 && errno == EINTR);
    if (got == pids[i]) push_reaped(env, out, &k, pids[i], status);
  }
  free(pids);
  return out;
}

static napi_value Signal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t pid = 0, signo = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || napi_get_value_int32(env, argv[1], &signo) != napi_ok) {
    napi_throw_type_error(env, NULL, "signal(pid, signo)");
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, kill(pid, signo) < 0 ? errno : 0, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "signal", NAPI_AUTO_LENGTH, Signal, NULL, &fn);
  napi_set_named_property(env, exports, "signal", fn);
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, Spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "reap", NAPI_AUTO_LENGTH, Reap, NULL, &fn);
  napi_set_named_property(env, exports, "reap", fn);
  logpump_register(env, exports);
  return exports;
}
