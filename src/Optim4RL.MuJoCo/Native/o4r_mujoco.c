/*
 * o4r_mujoco.c: the small C shim between Optim4RL.NET and MuJoCo 2.2.2
 * (docs/environments.md, "The MuJoCo binding").
 *
 * Built by src/Optim4RL.MuJoCo/Optim4RL.MuJoCo.csproj (target BuildMuJoCoShim) against the installed headers
 * (Debian libmujoco-dev) into libo4r_mujoco.so, which lies next to Optim4RL.MuJoCo.dll and is loaded
 * with NativeLibrary by MuJoCoNative.cs.
 *
 * Why a shim rather than plain P/Invoke:
 *   - Errors. MuJoCo's default error handler prints "Press Enter to exit ...", waits on stdin
 *     and calls exit(1). A user error handler must never return (the engine would continue on
 *     corrupt state), and a .NET exception must never unwind through native frames. Here the
 *     handler copies the message into a thread-local buffer and longjmp()s back to the entry
 *     point of the o4r_* call that is running on this thread, which returns an error code; the
 *     managed side then throws MuJoCoException with the text. An error raised on a thread that
 *     is not inside an o4r_* call (impossible through this binding) is reported on stderr and
 *     aborts, rather than blocking on stdin.
 *   - Layout. Array fields are reached by name through MuJoCo's own X-macros (mjxmacro.h), so the
 *     struct layout can never drift from the headers the library was built with.
 *   - Speed. One call per environment step: write ctrl, run mj_step frame_skip times, optionally
 *     mj_rnePostConstraint, and report which warnings the step raised.
 *
 * Threads. Errors and warnings are routed per thread (thread-local state), so environments can be
 * stepped in parallel, each with its own mjData and one shared, read-only mjModel. The XML loader
 * keeps global state ("last XML"), so loads are serialised with a mutex.
 */
#include <mujoco/mujoco.h>
#include <mujoco/mjxmacro.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define O4R_API __attribute__((visibility("default")))

/* Bumped whenever a signature below changes; checked by MuJoCoNative.cs. */
#define O4R_ABI_VERSION 1

/* Element kinds reported by the field look-ups (MjElementKind in C#). */
enum { O4R_OTHER = 0, O4R_DOUBLE = 1, O4R_INT = 2, O4R_BYTE = 3, O4R_FLOAT = 4, O4R_CHAR = 5 };

#define O4R_KIND(type) _Generic(*(type*)0, \
    double: O4R_DOUBLE, int: O4R_INT, unsigned char: O4R_BYTE, float: O4R_FLOAT, char: O4R_CHAR, default: O4R_OTHER)

static _Thread_local jmp_buf* tls_jump = NULL;
static _Thread_local char tls_error[1024];
static _Thread_local char tls_warning[1024];
static _Thread_local int tls_warning_count = 0;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void o4r_on_error(const char* msg) {
  snprintf(tls_error, sizeof tls_error, "%s", msg ? msg : "(no message)");
  if (tls_jump) {
    longjmp(*tls_jump, 1);
  }
  /* Not inside a guarded call: returning would let MuJoCo continue on corrupt state. */
  fprintf(stderr, "optim4rl: MuJoCo error outside a guarded call, aborting: %s\n", tls_error);
  fflush(stderr);
  abort();
}

static void o4r_on_warning(const char* msg) {
  snprintf(tls_warning, sizeof tls_warning, "%s", msg ? msg : "(no message)");
  tls_warning_count++;
}

static void o4r_install_hooks(void) {
  mju_user_error = o4r_on_error;
  mju_user_warning = o4r_on_warning;
}

/* Installs the hooks as soon as the shim is loaded, before any MuJoCo function can run. */
__attribute__((constructor)) static void o4r_constructor(void) { o4r_install_hooks(); }

/*
 * GUARD_BEGIN/GUARD_END bracket every entry point that calls into MuJoCo. On an engine error the
 * handler longjmps back here; the entry point then returns `onerror`. Variables changed after
 * setjmp and read after the jump are volatile.
 */
#define GUARD_BEGIN(onerror)              \
  jmp_buf o4r_jb;                         \
  jmp_buf* volatile o4r_prev = tls_jump;  \
  tls_error[0] = 0;                       \
  tls_warning_count = 0;                  \
  if (setjmp(o4r_jb)) {                   \
    tls_jump = o4r_prev;                  \
    return onerror;                       \
  }                                       \
  tls_jump = &o4r_jb;

#define GUARD_END() tls_jump = o4r_prev;

/* ---------------------------------------------------------------- library ---------------- */

/* Installs the hooks (again; idempotent) and returns mj_version() (222 for MuJoCo 2.2.2). */
O4R_API int o4r_init(void) {
  o4r_install_hooks();
  return mj_version();
}

O4R_API int o4r_abi_version(void) { return O4R_ABI_VERSION; }

/* mjVERSION_HEADER of the headers this shim was compiled against. */
O4R_API int o4r_header_version(void) { return mjVERSION_HEADER; }

/* Whether both hooks still point at this shim (something else may have replaced them). */
O4R_API int o4r_hooks_installed(void) {
  return mju_user_error == o4r_on_error && mju_user_warning == o4r_on_warning;
}

/* The text of the last error raised on this thread inside an o4r_* call ("" if none). */
O4R_API const char* o4r_last_error(void) { return tls_error; }

/* The text of the last warning raised on this thread and how many since the last o4r_* call began. */
O4R_API const char* o4r_last_warning(void) { return tls_warning; }
O4R_API int o4r_warning_count(void) { return tls_warning_count; }

/* Raises a MuJoCo error through mju_error inside a guarded call (for tests of the error path). Returns -1. */
O4R_API int o4r_raise_error(const char* msg) {
  GUARD_BEGIN(-1)
  mju_error(msg);
  GUARD_END()
  return 0; /* not reached: mju_error never returns */
}

/* Raises a MuJoCo warning through mju_warning (for tests). Returns how many warnings this call saw. */
O4R_API int o4r_raise_warning(const char* msg) {
  GUARD_BEGIN(-1)
  mju_warning(msg);
  GUARD_END()
  return tls_warning_count;
}

/* ---------------------------------------------------------------- models ----------------- */

/*
 * Loads an MJCF file. Returns NULL on failure with the loader's message in err (the compiler
 * reports its errors there, not through the error hook), or, for an engine error during the
 * load, in o4r_last_error().
 */
O4R_API mjModel* o4r_load_xml(const char* path, char* err, int err_size) {
  if (err && err_size > 0) err[0] = 0;
  pthread_mutex_lock(&load_lock);
  GUARD_BEGIN((pthread_mutex_unlock(&load_lock), (mjModel*)NULL))
  mjModel* m = mj_loadXML(path, NULL, err, err_size);
  GUARD_END()
  pthread_mutex_unlock(&load_lock);
  return m;
}

/*
 * Loads MJCF text through a one-file virtual file system under the name `name` (which must end
 * in ".xml"). Same error reporting as o4r_load_xml.
 */
O4R_API mjModel* o4r_load_xml_string(const char* xml, const char* name, char* err, int err_size) {
  if (err && err_size > 0) err[0] = 0;
  size_t len = strlen(xml);
  if (len >= (size_t)0x7fffffff) {
    snprintf(err, (size_t)err_size, "XML text too long (%zu bytes)", len);
    return NULL;
  }
  mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));
  if (!vfs) {
    snprintf(err, (size_t)err_size, "out of memory allocating the virtual file system");
    return NULL;
  }
  mjModel* volatile m = NULL;
  pthread_mutex_lock(&load_lock);
  {
    GUARD_BEGIN((pthread_mutex_unlock(&load_lock), free(vfs), (mjModel*)NULL))
    mj_defaultVFS(vfs);
    int rc = mj_makeEmptyFileVFS(vfs, name, (int)len);
    if (rc != 0) {
      snprintf(err, (size_t)err_size, "could not create virtual file '%s' (code %d)", name, rc);
    } else {
      int idx = mj_findFileVFS(vfs, name);
      memcpy(vfs->filedata[idx], xml, len);
      m = mj_loadXML(name, vfs, err, err_size);
    }
    mj_deleteVFS(vfs);
    GUARD_END()
  }
  pthread_mutex_unlock(&load_lock);
  free(vfs);
  return m;
}

O4R_API void o4r_delete_model(mjModel* m) {
  if (m) mj_deleteModel(m);
}

/* Reads an int field of mjModel by name (MJMODEL_INTS), an int of mjOption (MJOPTION_INTS). Returns 0 if found. */
O4R_API int o4r_model_int(const mjModel* m, const char* name, int* value) {
#define X(nm) if (!strcmp(name, #nm)) { *value = m->nm; return 0; }
  MJMODEL_INTS
#undef X
#define X(type, nm) if (!strcmp(name, "opt." #nm)) { *value = (int)m->opt.nm; return 0; }
  MJOPTION_INTS
#undef X
  return -1;
}

/* Reads a floating-point field of mjOption by name ("opt.timestep", ...). Returns 0 if found. */
O4R_API int o4r_model_double(const mjModel* m, const char* name, double* value) {
#define X(type, nm) if (!strcmp(name, "opt." #nm)) { *value = (double)m->opt.nm; return 0; }
  MJOPTION_FLOATS
#undef X
  return -1;
}

/* Pointer to an mjOption vector (gravity, wind, magnetic, o_solref, o_solimp) and its length. */
O4R_API int o4r_model_option_vector(mjModel* m, const char* name, double** ptr, int* length) {
#define X(nm, n) if (!strcmp(name, "opt." #nm)) { *ptr = m->opt.nm; *length = n; return 0; }
  MJOPTION_VECTORS
#undef X
  return -1;
}

/* An array field of mjModel by name (MJMODEL_POINTERS): pointer, rows, columns, element kind and size. */
O4R_API int o4r_model_array(mjModel* m, const char* name, void** ptr, int* rows, int* cols, int* kind, int* elem_size) {
  MJMODEL_POINTERS_PREAMBLE(m)
#define X(type, nm, nr, nc)                                                               \
  if (!strcmp(name, #nm)) {                                                               \
    *ptr = (void*)m->nm; *rows = m->nr; *cols = nc; *kind = O4R_KIND(type);               \
    *elem_size = (int)sizeof(type); return 0;                                             \
  }
  MJMODEL_POINTERS
#undef X
  (void)nuser_body; (void)nuser_jnt; (void)nuser_geom; (void)nuser_site; (void)nuser_cam;
  (void)nuser_tendon; (void)nuser_actuator; (void)nuser_sensor; (void)nq; (void)nv; (void)na;
  (void)nu; (void)nmocap;
  return -1;
}

/* mj_name2id: the id of the named object of the given mjtObj type, -1 if absent. */
O4R_API int o4r_name2id(const mjModel* m, int type, const char* name) {
  GUARD_BEGIN(-2)
  int id = mj_name2id(m, type, name);
  GUARD_END()
  return id;
}

/* mj_id2name into a caller buffer; returns 1 if the object has a name, 0 if not, -2 on error. */
O4R_API int o4r_id2name(const mjModel* m, int type, int id, char* buf, int buf_size) {
  GUARD_BEGIN(-2)
  const char* s = mj_id2name(m, type, id);
  GUARD_END()
  if (!s) { if (buf_size > 0) buf[0] = 0; return 0; }
  snprintf(buf, (size_t)buf_size, "%s", s);
  return 1;
}

/* ---------------------------------------------------------------- data ------------------- */

/* mj_makeData; NULL on error (text in o4r_last_error). */
O4R_API mjData* o4r_make_data(const mjModel* m) {
  GUARD_BEGIN(NULL)
  mjData* d = mj_makeData(m);
  GUARD_END()
  if (!d && !tls_error[0]) snprintf(tls_error, sizeof tls_error, "mj_makeData returned NULL");
  return d;
}

O4R_API void o4r_delete_data(mjData* d) {
  if (d) mj_deleteData(d);
}

/* An array field of mjData by name (MJDATA_POINTERS). */
O4R_API int o4r_data_array(const mjModel* m, mjData* d, const char* name, void** ptr, int* rows, int* cols, int* kind, int* elem_size) {
  MJDATA_POINTERS_PREAMBLE(m)
#define X(type, nm, nr, nc)                                                               \
  if (!strcmp(name, #nm)) {                                                               \
    *ptr = (void*)d->nm; *rows = m->nr; *cols = nc; *kind = O4R_KIND(type);               \
    *elem_size = (int)sizeof(type); return 0;                                             \
  }
  MJDATA_POINTERS
#undef X
  (void)nv; (void)njmax;
  return -1;
}

/* Pointer to a scalar field of mjData (MJDATA_SCALAR: nstack, pstack, maxuse_stack, ncon, time, ...). */
O4R_API int o4r_data_scalar(mjData* d, const char* name, void** ptr, int* kind) {
#define X(type, nm) if (!strcmp(name, #nm)) { *ptr = (void*)&d->nm; *kind = O4R_KIND(type); return 0; }
  MJDATA_SCALAR
#undef X
  return -1;
}

/* How often warning `k` (mjtWarning) was raised on this data since it was last cleared, and its last info. */
O4R_API int o4r_warning_number(const mjData* d, int k, int* lastinfo) {
  if (k < 0 || k >= mjNWARNING) return -1;
  if (lastinfo) *lastinfo = d->warning[k].lastinfo;
  return d->warning[k].number;
}

/* Clears all warning counters of d (so the next occurrence of each is reported again). */
O4R_API void o4r_clear_warnings(mjData* d) {
  for (int k = 0; k < mjNWARNING; k++) d->warning[k].number = 0;
}

/* Bitmask of the warnings whose counters are non-zero, then clears them all. */
static int o4r_take_warnings(mjData* d) {
  int mask = 0;
  for (int k = 0; k < mjNWARNING; k++) {
    if (d->warning[k].number) mask |= 1 << k;
    d->warning[k].number = 0;
  }
  return mask;
}

/*
 * Gymnasium reset: mj_resetData; then qpos/qvel from the given arrays (each may be NULL
 * to keep qpos0 / zero); then mj_forward. Returns the warning bitmask (>= 0), or -1 on an engine
 * error (the data is reset again so that it stays usable).
 */
O4R_API int o4r_reset(const mjModel* m, mjData* d, const double* qpos, const double* qvel) {
  GUARD_BEGIN((mj_resetData(m, d), -1))
  mj_resetData(m, d);
  if (qpos) memcpy(d->qpos, qpos, sizeof(mjtNum) * (size_t)m->nq);
  if (qvel) memcpy(d->qvel, qvel, sizeof(mjtNum) * (size_t)m->nv);
  mj_forward(m, d);
  GUARD_END()
  return o4r_take_warnings(d);
}

/* mj_resetData only. Returns 0, or -1 on an engine error. */
O4R_API int o4r_reset_data(const mjModel* m, mjData* d) {
  GUARD_BEGIN(-1)
  mj_resetData(m, d);
  GUARD_END()
  return 0;
}

/* mj_forward. Returns the warning bitmask, or -1 on an engine error (the data is then reset). */
O4R_API int o4r_forward(const mjModel* m, mjData* d) {
  GUARD_BEGIN((mj_resetData(m, d), -1))
  mj_forward(m, d);
  GUARD_END()
  return o4r_take_warnings(d);
}

/* mj_rnePostConstraint (fills cacc, cfrc_int, cfrc_ext). Returns 0, or -1 on an engine error (data reset). */
O4R_API int o4r_rne_post_constraint(const mjModel* m, mjData* d) {
  GUARD_BEGIN((mj_resetData(m, d), -1))
  mj_rnePostConstraint(m, d);
  GUARD_END()
  return 0;
}

/*
 * One environment step (Gymnasium's do_simulation): copy ctrl (nu values; NULL keeps d->ctrl), clear the warning
 * counters, run mj_step `nframes` times, then mj_rnePostConstraint when rne_post is non-zero.
 * Returns the bitmask of mjtWarning kinds raised during the call (bit k = warning k; bits 4-6
 * mean MuJoCo found a bad qpos/qvel/qacc and reset the data mid-step), or -1 on an engine error,
 * in which case the data has been reset with mj_resetData.
 */
O4R_API int o4r_step(const mjModel* m, mjData* d, const double* ctrl, int nframes, int rne_post) {
  GUARD_BEGIN((mj_resetData(m, d), -1))
  if (ctrl) memcpy(d->ctrl, ctrl, sizeof(mjtNum) * (size_t)m->nu);
  for (int k = 0; k < mjNWARNING; k++) d->warning[k].number = 0;
  int mask = 0;
  for (int f = 0; f < nframes; f++) {
    mj_step(m, d);
    for (int k = 0; k < mjNWARNING; k++) {
      if (d->warning[k].number) mask |= 1 << k;
      d->warning[k].number = 0;
    }
  }
  if (rne_post) mj_rnePostConstraint(m, d);
  GUARD_END()
  return mask;
}

/* mj_copyData(dest, m, src). Returns 0, or -1 on an engine error. */
O4R_API int o4r_copy_data(const mjModel* m, mjData* dest, const mjData* src) {
  GUARD_BEGIN(-1)
  mj_copyData(dest, m, src);
  GUARD_END()
  return 0;
}
