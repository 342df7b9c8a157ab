/* What exec and the loader record for the guest's /proc (where argv and
 * the environment are, comm) and the names of mappings ([heap], a file's
 * path), kept once each. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lx/procfs_tree.h"
#include "util.h"

#define MAX_NAMES 256 /* distinct mapping names kept */

/* The end of the NUL-terminated guest string at a, or a if unreadable. */
static uint64_t str_end(struct lx_proc *p, uint64_t a)
{
	uint64_t top = p->vm.user_size;
	const char *s = a < top ? gm_user(&p->vm, a, top - a, GM_READ) : NULL;
	return s ? a + strnlen(s, top - a) + 1 : a;
}

void lx_procfs_note_stack(struct lx_proc *p, uint64_t sp)
{
	struct lx_mm *mm = &p->mm;
	const uint64_t *argc = gm_user(&p->vm, sp, 8, GM_READ);
	mm->arg_start = mm->arg_end = mm->env_start = mm->env_end = 0;
	if (!argc || *argc > (1 << 17))
		return;
	const uint64_t *v = gm_user(&p->vm, sp + 8, (*argc + 1) * 8, GM_READ);
	if (v && *argc) {
		mm->arg_start = v[0];
		mm->arg_end = str_end(p, v[*argc - 1]);
	}
	uint64_t e = sp + 8 + (*argc + 1) * 8;
	const uint64_t *first = gm_user(&p->vm, e, 8, GM_READ);
	uint64_t last = 0;
	for (uint64_t i = 0; first && i < (1 << 17); i++) {
		const uint64_t *w = gm_user(&p->vm, e + i * 8, 8, GM_READ);
		if (!w || !*w)
			break;
		last = *w;
	}
	if (first && *first) {
		mm->env_start = *first;
		mm->env_end = str_end(p, last);
	}
}

void lx_procfs_set_comm(struct lx_proc *p, const char *path)
{
	const char *base = strrchr(path, '/');
	snprintf(p->task.comm, sizeof(p->task.comm), "%s",
		 base ? base + 1 : path);
}

/* ---- mapping names ---- */

/* Drops the names no VMA uses any more. */
static void names_compact(struct lx_mm *mm)
{
	int out = 0;
	for (int i = 0; i < mm->nnames; i++) {
		bool used = false;
		for (int j = 0; j < mm->nvmas && !used; j++)
			used = mm->vmas[j].name == mm->names[i];
		if (used)
			mm->names[out++] = mm->names[i];
		else
			free(mm->names[i]);
	}
	mm->nnames = out;
}

const char *lx_mm_name(struct lx_proc *p, const char *name)
{
	struct lx_mm *mm = &p->mm;
	for (int i = 0; i < mm->nnames; i++)
		if (strcmp(mm->names[i], name) == 0)
			return mm->names[i];
	if (!mm->names && !(mm->names = calloc(MAX_NAMES, sizeof(char *))))
		return NULL;
	if (mm->nnames == MAX_NAMES)
		names_compact(mm);
	char *s = mm->nnames < MAX_NAMES ? strdup(name) : NULL;
	if (s)
		mm->names[mm->nnames++] = s;
	return s;
}
