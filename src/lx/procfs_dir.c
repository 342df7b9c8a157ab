/* Directories of the guest's /proc: listed afresh by each getdents64,
 * the host fd's offset holding the position (procfs.c has the tree). */
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

struct dent {
	uint64_t key; /* its position */
	char name[32];
	unsigned char type;
};

static const unsigned char dt_of[] = {
	[N_DIR] = DT_DIR, [N_FILE] = DT_REG, [N_LINK] = DT_LNK};

/* The entry of directory n with the smallest position >= pos, if any. */
static bool dir_next(struct lx_proc *p, const struct node *n, uint64_t pos,
		     struct dent *d)
{
	if (pos < 2) {
		*d = (struct dent){pos, "..", DT_DIR};
		d->name[pos ? 2 : 1] = 0;
		return true;
	}
	size_t cnt;
	const struct ent *tab = procfs_dir_table(n->which, &cnt);
	for (uint64_t i = pos - 2; i < cnt; i++) {
		if (n->which == D_TID && tab[i].which == D_TASK &&
		    tab[i].type == N_DIR)
			continue;
		*d = (struct dent){i + 2, "", dt_of[tab[i].type]};
		snprintf(d->name, sizeof(d->name), "%s", tab[i].name);
		return true;
	}
	uint64_t base = 2 + cnt, i = pos - base;
	bool found = false;
	if (n->which == D_ROOT && pos <= base) {
		*d = (struct dent){base, "", DT_DIR};
		snprintf(d->name, sizeof(d->name), "%d", (int)p->task.pid);
		return true;
	}
	if (n->which == D_FD) {
		pthread_mutex_lock(&p->fdt.lock);
		for (; !found && i < (uint64_t)p->fdt.top; i++)
			if (p->fdt.slot[i].used) {
				*d = (struct dent){base + i, "", DT_LNK};
				snprintf(d->name, sizeof(d->name), "%d",
					 (int)i);
				found = true;
			}
		pthread_mutex_unlock(&p->fdt.lock);
	}
	if (n->which == D_TASK) {
		pthread_mutex_lock(&p->lock);
		for (; !found && i < SYS_MAX_VCPUS; i++)
			if (p->threads[i] && p->threads[i]->live) {
				*d = (struct dent){base + i, "", DT_DIR};
				snprintf(d->name, sizeof(d->name), "%d",
					 (int)p->threads[i]->tid);
				found = true;
			}
		pthread_mutex_unlock(&p->lock);
	}
	return found;
}

long lx_procfs_getdents(struct lx_thread *t, struct lx_fd *f, uint64_t buf,
			unsigned count)
{
	struct lx_proc *p = t->p;
	off_t pos = lseek(f->host, 0, SEEK_CUR);
	if (pos < 0)
		return -errno;
	uint8_t *h = gm_user(&p->vm, buf, count, GM_WRITE);
	if (!h)
		return -EFAULT;
	struct node n;
	const char *rest;
	int err = procfs_parse(p, f->path, &n, &rest);
	if (err || n.type != N_DIR)
		return err ? err : -ENOTDIR;
	size_t used = 0, plen = strlen(f->path);
	struct dent d;
	while (dir_next(p, &n, (uint64_t)pos, &d)) {
		size_t nl = strlen(d.name);
		size_t rl = ALIGN_UP(19 + nl + 1, 8);
		if (used + rl > count)
			break;
		char full[PATH_MAX + 40];
		snprintf(full, sizeof(full), "%.*s/%s", (int)plen, f->path,
			 d.name);
		struct dirent64 *e = (struct dirent64 *)(h + used);
		e->d_ino = procfs_path_ino(full);
		e->d_off = (int64_t)d.key + 1;
		e->d_reclen = (unsigned short)rl;
		e->d_type = d.type;
		memset(e->d_name, 0, rl - 19);
		memcpy(e->d_name, d.name, nl);
		used += rl;
		pos = (off_t)d.key + 1;
	}
	if (used == 0 && dir_next(p, &n, (uint64_t)pos, &d))
		return -EINVAL;
	lseek(f->host, pos, SEEK_SET);
	return (long)used;
}
