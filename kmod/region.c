// SPDX-License-Identifier: GPL-2.0
/*
 * region.c - describe a VMA as /proc/PID/maps and smaps show it
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "memprint_kmod.h"

/* enum mp_region_kind, MP_PROT_* and MP_VM_* of include/memprint.h */
enum {
	REGION_ANON = 1,
	REGION_ANON_NAMED,
	REGION_HEAP,
	REGION_STACK,
	REGION_FILE,
	REGION_SHMEM,
	REGION_KERNEL,
	REGION_DELETED,
};

#define PROT_R		(1u << 0)
#define PROT_W		(1u << 1)
#define PROT_X		(1u << 2)
#define PROT_S		(1u << 3)

#define VMF_MERGEABLE	(1u << 0)
#define VMF_IO		(1u << 1)
#define VMF_PFNMAP	(1u << 2)
#define VMF_HUGETLB	(1u << 3)
#define VMF_HUGEPAGE	(1u << 4)
#define VMF_DONTDUMP	(1u << 5)
#define VMF_FROM_SMAPS	(1u << 31)

static u32 region_prot(const struct vm_area_struct *vma)
{
	u32 prot = 0;

	if (vma->vm_flags & VM_READ)
		prot |= PROT_R;
	if (vma->vm_flags & VM_WRITE)
		prot |= PROT_W;
	if (vma->vm_flags & VM_EXEC)
		prot |= PROT_X;
	if (vma->vm_flags & VM_MAYSHARE)
		prot |= PROT_S;
	return prot;
}

static u32 region_vm_flags(const struct vm_area_struct *vma)
{
	u32 flags = VMF_FROM_SMAPS;

	if (vma->vm_flags & VM_MERGEABLE)
		flags |= VMF_MERGEABLE;
	if (vma->vm_flags & VM_IO)
		flags |= VMF_IO;
	if (vma->vm_flags & VM_PFNMAP)
		flags |= VMF_PFNMAP;
	if (vma->vm_flags & VM_HUGETLB)
		flags |= VMF_HUGETLB;
	if (vma->vm_flags & VM_HUGEPAGE)
		flags |= VMF_HUGEPAGE;
	if (vma->vm_flags & VM_DONTDUMP)
		flags |= VMF_DONTDUMP;
	return flags;
}

/* The path maps prints, including a " (deleted)" suffix; sets the kind. */
static const char *file_region(struct vm_area_struct *vma,
			       struct memprint_rec_region *rec, char *buf,
			       u32 *size)
{
	struct file *file = vma->vm_file;
	struct inode *inode = file_inode(file);
	char *path;

	rec->offset = (u64)vma->vm_pgoff << PAGE_SHIFT;
	rec->dev = new_encode_dev(inode->i_sb->s_dev);
	rec->inode = inode->i_ino;
	if (inode->i_sb->s_magic == TMPFS_MAGIC)
		rec->kind = REGION_SHMEM;
	else if (d_unlinked(file->f_path.dentry))
		rec->kind = REGION_DELETED;
	else
		rec->kind = REGION_FILE;

	path = d_path(&file->f_path, buf, PATH_MAX);
	if (IS_ERR(path)) {
		*size = 0;
		return buf;
	}
	*size = strlen(path);
	return path;
}

/* Name an area without a file as show_map_vma() in fs/proc/task_mmu.c. */
static const char *anon_region(struct vm_area_struct *vma,
			       struct memprint_rec_region *rec, u32 *size)
{
	struct mm_struct *mm = vma->vm_mm;
	const char *name = NULL;

	rec->kind = REGION_ANON;
	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	if (name) {
		rec->kind = REGION_KERNEL;
	} else if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk) {
		rec->kind = REGION_HEAP;
		name = "[heap]";
	} else if (vma->vm_start <= mm->start_stack &&
		   vma->vm_end >= mm->start_stack) {
		rec->kind = REGION_STACK;
		name = "[stack]";
	}
	*size = name ? strlen(name) : 0;
	return name;
}

void mpk_describe_region(struct vm_area_struct *vma,
			 struct memprint_rec_region *rec, char *buf,
			 const char **path, u32 *path_size)
{
	memset(rec, 0, sizeof(*rec));
	rec->start = vma->vm_start;
	rec->end = vma->vm_end;
	rec->prot = region_prot(vma);
	rec->vm_flags = region_vm_flags(vma);
	if (vma->vm_file)
		*path = file_region(vma, rec, buf, path_size);
	else
		*path = anon_region(vma, rec, path_size);
}
