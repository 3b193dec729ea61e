/* The client's records of servers that failed the checks (include/fusion/inference.h): a text file with one line
 * "<model hash hex> <server id>" per server, so a cheating server learns at most one bit over its lifetime. */
#include <fusion/inference.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { LINE_MAX_LEN = 1024 };

static void record_line(char *out, size_t cap, const uint8_t hash[32], const char *server_id) {
  char hex[65];
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", hash[i]);
  snprintf(out, cap, "%s %s\n", hex, server_id);
}

fsn_status fsn_fusion_state_default_path(char *out, size_t cap) {
  const char *file = getenv("FSN_STATE_FILE"), *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  int n;
  if (file && *file)
    n = snprintf(out, cap, "%s", file);
  else if (xdg && *xdg)
    n = snprintf(out, cap, "%s/fusion/caught-servers", xdg);
  else if (home && *home)
    n = snprintf(out, cap, "%s/.local/state/fusion/caught-servers", home);
  else
    return fsn_fail(FSN_E_INVALID, "no state file: set FSN_STATE_FILE, XDG_STATE_HOME or HOME");
  return n > 0 && (size_t)n < cap ? FSN_OK : fsn_fail(FSN_E_INVALID, "state file path too long");
}

fsn_status fsn_fusion_state_lookup(const char *path, const uint8_t model_hash[32], const char *server_id,
                                   bool *caught) {
  *caught = false;
  FILE *f = fopen(path, "r");
  if (!f) return errno == ENOENT ? FSN_OK : fsn_fail(FSN_E_IO, "state file %s: %s", path, strerror(errno));
  char want[LINE_MAX_LEN], line[LINE_MAX_LEN];
  record_line(want, sizeof want, model_hash, server_id);
  while (!*caught && fgets(line, sizeof line, f)) *caught = !strcmp(line, want);
  fclose(f);
  return FSN_OK;
}

/* mkdir -p of the file's directory, private to the user. */
static fsn_status make_parent(const char *path) {
  char dir[LINE_MAX_LEN];
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return fsn_fail(FSN_E_INVALID, "state path too long");
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return FSN_OK;
  *slash = 0;
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(dir, 0700) && errno != EEXIST) return fsn_fail(FSN_E_IO, "mkdir %s: %s", dir, strerror(errno));
    *p = '/';
  }
  if (mkdir(dir, 0700) && errno != EEXIST) return fsn_fail(FSN_E_IO, "mkdir %s: %s", dir, strerror(errno));
  return FSN_OK;
}

fsn_status fsn_fusion_state_record(const char *path, const uint8_t model_hash[32], const char *server_id) {
  bool caught;
  fsn_status st = fsn_fusion_state_lookup(path, model_hash, server_id, &caught);
  if (st != FSN_OK || caught) return st;
  if ((st = make_parent(path)) != FSN_OK) return st;
  char line[LINE_MAX_LEN];
  record_line(line, sizeof line, model_hash, server_id);
  FILE *f = fopen(path, "a");
  if (!f) return fsn_fail(FSN_E_IO, "state file %s: %s", path, strerror(errno));
  bool ok = fputs(line, f) >= 0;
  ok = fclose(f) == 0 && ok;
  return ok ? FSN_OK : fsn_fail(FSN_E_IO, "state file %s: write failed", path);
}

fsn_status fsn_fusion_state_forget(const char *path, const uint8_t model_hash[32], const char *server_id) {
  FILE *f = fopen(path, "r");
  if (!f) return errno == ENOENT ? FSN_OK : fsn_fail(FSN_E_IO, "state file %s: %s", path, strerror(errno));
  char tmp[LINE_MAX_LEN], want[LINE_MAX_LEN], line[LINE_MAX_LEN];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    fclose(f);
    return fsn_fail(FSN_E_INVALID, "state path too long");
  }
  record_line(want, sizeof want, model_hash, server_id);
  FILE *g = fopen(tmp, "w");
  bool ok = g != NULL;
  while (ok && fgets(line, sizeof line, f))
    if (strcmp(line, want)) ok = fputs(line, g) >= 0;
  fclose(f);
  if (g) ok = fclose(g) == 0 && ok;
  if (ok && rename(tmp, path) == 0) return FSN_OK;
  remove(tmp);
  return fsn_fail(FSN_E_IO, "state file %s: rewrite failed", path);
}
