// SPDX-License-Identifier: GPL-2.0
/*
 * pagecache.c - the page-cache scan: cached pages of one file or mount
 *
 * filemap_get_folios() returns only folios already in the page cache, with
 * a reference, so the scan reads nothing from disk; shadow and swap entries
 * are skipped.  iterate_supers() is not exported (Linux 6.1, 6.12), so one
 * request covers one file or the super block of one mount, walked as
 * drop_pagecache_sb() in fs/drop_caches.c walks it.
 */
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memprint_kmod.h"

static void send_file(struct mpk_session *session, bool full_path)
{
	struct mpk_cache_scan *cs = &session->cache;
	struct inode *inode = cs->inode;
	struct memprint_rec_file rec = { 0 };
	struct dentry *dentry;
	char *path = ERR_PTR(-ENOENT);

	rec.dev = new_encode_dev(inode->i_sb->s_dev);
	rec.inode = inode->i_ino;
	rec.size = i_size_read(inode);
	if (full_path) {
		path = d_path(&cs->path, cs->path_buf, PATH_MAX);
	} else {
		dentry = d_find_alias(inode);
		if (dentry) {
			path = dentry_path_raw(dentry, cs->path_buf, PATH_MAX);
			dput(dentry);
		}
	}
	if (IS_ERR(path))
		mpk_emit_file(&session->out, &rec, "", 0);
	else
		mpk_emit_file(&session->out, &rec, path, strlen(path));
	cs->file = cs->files++;
	cs->index = 0;
	cs->file_done = false;
}

/* The next regular file with cached pages after prev, referenced. */
static struct inode *next_inode(struct super_block *sb, struct inode *prev)
{
	struct inode *inode, *found = NULL;

	spin_lock(&sb->s_inode_list_lock);
	inode = list_prepare_entry(prev, &sb->s_inodes, i_sb_list);
	list_for_each_entry_continue(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if ((inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) ||
		    !S_ISREG(inode->i_mode) || !inode->i_mapping->nrpages) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		found = inode;
		break;
	}
	spin_unlock(&sb->s_inode_list_lock);
	/* prev's reference kept it on the list until now. */
	if (prev)
		iput(prev);
	return found;
}

static void send_folio(struct mpk_session *session, struct folio *folio,
		       pgoff_t first, pgoff_t *next, unsigned int *sent)
{
	struct mpk_cache_scan *cs = &session->cache;
	long i, nr = folio_nr_pages(folio);

	for (i = 0; i < nr; i++) {
		struct page *page = folio_page(folio, i);
		pgoff_t index = folio->index + i;
		struct memprint_rec_page rec = {
			.index = index,
			.pfn = page_to_pfn(page),
			.region = cs->file,
		};

		if (index < first)
			continue;
		if (*sent >= MPK_BATCH) {
			*next = index;
			return;
		}
		mpk_fill_page(session, page, &rec);
		mpk_emit_page(&session->out, &rec, session->hasher.size);
		(*sent)++;
	}
}

/* Send up to MPK_BATCH cached pages of the current file. */
static void send_pages(struct mpk_session *session)
{
	struct mpk_cache_scan *cs = &session->cache;
	struct address_space *mapping = cs->inode->i_mapping;
	unsigned int sent = 0, i, n;
	struct folio_batch batch;

	folio_batch_init(&batch);
	while (sent < MPK_BATCH) {
		pgoff_t first = cs->index, next;

		n = filemap_get_folios(mapping, &cs->index, ULONG_MAX, &batch);
		if (!n) {
			cs->file_done = true;
			break;
		}
		next = cs->index;
		for (i = 0; i < n; i++) {
			struct folio *folio = batch.folios[i];

			/* A folio still being read holds no content yet. */
			if (folio_test_uptodate(folio))
				send_folio(session, folio, first, &next, &sent);
		}
		cs->index = next;
		folio_batch_release(&batch);
		if (!cs->index)
			cs->file_done = true;	/* wrapped past ULONG_MAX */
		cond_resched();
	}
}

static int cache_step(struct mpk_session *session)
{
	struct mpk_cache_scan *cs = &session->cache;

	if (cs->file_done || !cs->inode) {
		if (!cs->whole_mount && cs->inode)
			return 1;
		cs->inode = next_inode(cs->path.mnt->mnt_sb, cs->inode);
		if (!cs->inode)
			return 1;
		send_file(session, false);
	}
	send_pages(session);
	return 0;
}

static void cache_cleanup(struct mpk_session *session)
{
	struct mpk_cache_scan *cs = &session->cache;

	if (cs->inode)
		iput(cs->inode);
	if (cs->path.dentry)
		path_put(&cs->path);
	kfree(cs->path_buf);
	memset(cs, 0, sizeof(*cs));
}

static int lookup_target(struct mpk_cache_scan *cs,
			 const struct memprint_request *request)
{
	struct file *file;
	char *name;
	int err;

	if (request->fd >= 0) {
		file = fget(request->fd);
		if (!file)
			return -EBADF;
		cs->path = file->f_path;
		path_get(&cs->path);
		fput(file);
		return 0;
	}
	name = strndup_user(u64_to_user_ptr(request->path), PATH_MAX);
	if (IS_ERR(name))
		return PTR_ERR(name);
	err = kern_path(name, LOOKUP_FOLLOW, &cs->path);
	kfree(name);
	return err;
}

int mpk_cache_start(struct mpk_session *session)
{
	struct mpk_cache_scan *cs = &session->cache;
	struct inode *inode;
	int err;

	memset(cs, 0, sizeof(*cs));
	session->step = cache_step;
	session->cleanup = cache_cleanup;
	cs->path_buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!cs->path_buf)
		return -ENOMEM;
	err = lookup_target(cs, &session->request);
	if (err)
		return err;

	cs->whole_mount = session->request.options & MEMPRINT_OPT_MOUNT;
	if (cs->whole_mount)
		return 0;
	inode = d_inode(cs->path.dentry);
	if (!S_ISREG(inode->i_mode))
		return -EINVAL;
	ihold(inode);
	cs->inode = inode;
	send_file(session, true);
	return 0;
}
