// SPDX-License-Identifier: GPL-2.0
/*
 * Backings: the memory behind RAM-like regions (struct memtopo_backing in
 * memtopo/memtopo.h), one reference-counted object per region that kernel
 * users may keep alive past the region.
 *
 *  - FILE: a struct file reference and an offset (KVM's guest_memfd and
 *    KVM_SET_USER_MEMORY_REGION2, vhost-user and rust-vmm's FileOffset).
 *    Bytes move through the page cache with kernel_read()/kernel_write(),
 *    so memfd, tmpfs and hugetlbfs (read-only: it has no write_iter) work
 *    and the VMM's own mmap of the file sees them at once.
 *  - KERNEL: vmalloc() memory allocated here (charged to the caller's memcg
 *    and, with the region, to the context's budget) at @kaddr, mmap-able
 *    through the context's fd at @mmap_offset (DRM's fake offsets).  The
 *    offsets come from one module-wide counter and are never
 *    reused, so a stale offset names nothing.
 *  - PROCESS: an address range of the creating process, reached from
 *    anywhere through its mm with get_user_pages_remote(); once that
 *    process is gone (mmget_not_zero() fails) accesses fail with -ESRCH.
 *  - NONE: a label (the legacy userspace address) that nothing reaches.
 *
 * A backing's last reference can be dropped from the region's RCU callback,
 * and fput(), vfree() and mmdrop() want process context: the release only
 * queues the backing on memtopo_backing_wq, drained at module exit after
 * every region is freed.
 */
#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "memtopo_main.h"
#include "memtopo_internal.h"

struct memtopo_kbacking {
	struct memtopo_backing b;
	struct work_struct release_work;
	/* KERNEL: pages at b.kaddr (vmalloc()ed, rounded up to whole pages) */
	unsigned long nr_pages;
};

static struct workqueue_struct *memtopo_backing_wq;
static atomic64_t memtopo_backing_ids = ATOMIC64_INIT(0);
/* next fake mmap offset, in pages; offset 0 is never handed out */
static atomic64_t memtopo_mmap_next = ATOMIC64_INIT(1);

static struct memtopo_kbacking *to_kb(struct memtopo_backing *b)
{
	return container_of(b, struct memtopo_kbacking, b);
}

static void memtopo_backing_free_work(struct work_struct *work)
{
	struct memtopo_kbacking *kb = container_of(work, struct memtopo_kbacking, release_work);

	/* pages still mapped into a process keep their own reference */
	vfree(kb->b.kaddr);
	if (kb->b.file)
		fput(kb->b.file);
	if (kb->b.mm)
		mmdrop(kb->b.mm);
	kfree(kb);
}

static void memtopo_backing_release(struct memtopo_backing *b)
{
	queue_work(memtopo_backing_wq, &to_kb(b)->release_work);
}

static int memtopo_kernel_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
				 bool write)
{
	if (write)
		memcpy((u8 *)b->kaddr + offset, buf, len);
	else
		memcpy(buf, (u8 *)b->kaddr + offset, len);
	return 0;
}

static int memtopo_file_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
			       bool write)
{
	loff_t pos = b->file_offset + offset;
	ssize_t n;

	/* a file shrunk since: its bytes past the end are gone, as for mmap */
	if (pos + (loff_t)len > i_size_read(file_inode(b->file)))
		return -ENXIO;
	if (write) {
		if (!(b->file->f_mode & FMODE_CAN_WRITE))
			return -EOPNOTSUPP;
		n = kernel_write(b->file, buf, len, &pos);
	} else {
		n = kernel_read(b->file, buf, len, &pos);
	}
	if (n < 0)
		return n;
	return n == len ? 0 : -ENXIO;
}

/* Copy through the owner's page tables, one page at a time. */
static int memtopo_process_access(struct memtopo_backing *b, u64 offset, void *buf,
				  size_t len, bool write)
{
	struct mm_struct *mm = b->mm;
	unsigned long addr = b->uaddr + offset;
	u8 *p = buf;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
		struct page *page;
		void *k;
		long got;

		got = memtopo_gup_remote(mm, addr, 1, write ? FOLL_WRITE : 0, &page);
		if (got != 1) {
			ret = got < 0 ? got : -EFAULT;
			break;
		}
		k = kmap_local_page(page);
		if (write) {
			memcpy(k + offset_in_page(addr), p, n);
			set_page_dirty_lock(page);
		} else {
			memcpy(p, k + offset_in_page(addr), n);
		}
		kunmap_local(k);
		put_page(page);
		addr += n;
		p += n;
		len -= n;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static const struct memtopo_backing_ops memtopo_kernel_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_kernel_access,
};

static const struct memtopo_backing_ops memtopo_file_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_file_access,
};

static const struct memtopo_backing_ops memtopo_process_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_process_access,
};

static const struct memtopo_backing_ops memtopo_label_ops = {
	.release = memtopo_backing_release,
};

static struct memtopo_kbacking *memtopo_kb_alloc(u8 kind, u64 size,
						 const struct memtopo_backing_ops *ops)
{
	struct memtopo_kbacking *kb = kzalloc(sizeof(*kb), GFP_KERNEL_ACCOUNT);

	if (!kb)
		return NULL;
	refcount_set(&kb->b.ref, 1);
	kb->b.kind = kind;
	kb->b.size = size;
	kb->b.ops = ops;
	kb->b.charge = sizeof(*kb);
	kb->b.id = atomic64_inc_return(&memtopo_backing_ids);
	INIT_WORK(&kb->release_work, memtopo_backing_free_work);
	return kb;
}

/**
 * memtopo_backing_kernel_alloc() - kernel-owned RAM.
 * @size: bytes, at least 1; rounded up to pages (the tail is mmap-able but
 *	dispatch stops at @size).
 *
 * The memory is zeroed and charged to the caller's memory cgroup; the
 * backing's @charge (what a region holding it charges to its context's
 * budget) counts it.
 *
 * Context: process context; sleeps.  No lock needed.
 * Return: the backing with one reference, or ERR_PTR(): -EINVAL for a
 * @size of 0, -E2BIG for one no mmap offset can cover, -ENOMEM.
 */
struct memtopo_backing *memtopo_backing_kernel_alloc(u64 size)
{
	struct memtopo_kbacking *kb;
	unsigned long nr;

	if (!size)
		return ERR_PTR(-EINVAL);
	/* the mmap offset counter must not pass what loff_t can name */
	if (size > (u64)MAX_LFS_FILESIZE / 2)
		return ERR_PTR(-E2BIG);
	nr = DIV_ROUND_UP_ULL(size, PAGE_SIZE);
	kb = memtopo_kb_alloc(MEMTOPO_BACKING_KERNEL, size, &memtopo_kernel_ops);
	if (!kb)
		return ERR_PTR(-ENOMEM);
	kb->b.kaddr = __vmalloc((unsigned long)nr << PAGE_SHIFT,
				GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
	if (!kb->b.kaddr) {
		/* never shared: freed here rather than through the workqueue */
		kfree(kb);
		return ERR_PTR(-ENOMEM);
	}
	kb->nr_pages = nr;
	kb->b.writable = true;
	kb->b.charge += (size_t)nr << PAGE_SHIFT;
	kb->b.mmap_offset = (u64)atomic64_fetch_add(nr, &memtopo_mmap_next) << PAGE_SHIFT;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_kernel_alloc, MEMTOPO);

/**
 * memtopo_backing_file() - RAM in a file, from @offset for @size bytes.
 * @file: the file; the backing takes its own reference.
 * @offset: where the region starts in the file, page-aligned.
 * @size: bytes, page-aligned, at least one page.
 * @writable: the memory is written through memtopo (RAM); the file must
 *	then be open for writing.  A ROM only reads it.
 *
 * Context: process context.  No lock needed.
 * Return: the backing with one reference, or ERR_PTR(): -EINVAL for an
 * unaligned or zero @offset/@size (or a sum past 2^63), -ENODEV for a file
 * that cannot be mmap()ed, -EACCES for a file not open for reading (or
 * writing, with @writable), -ENXIO if the file ends before @offset + @size,
 * -ENOMEM.
 */
struct memtopo_backing *memtopo_backing_file(struct file *file, u64 offset, u64 size,
					     bool writable)
{
	struct memtopo_kbacking *kb;

	if (!size || !PAGE_ALIGNED(size) || !PAGE_ALIGNED(offset) ||
	    offset > (u64)MAX_LFS_FILESIZE || size > (u64)MAX_LFS_FILESIZE - offset)
		return ERR_PTR(-EINVAL);
	if (!file->f_op->mmap)
		return ERR_PTR(-ENODEV);
	if (!(file->f_mode & FMODE_READ) || (writable && !(file->f_mode & FMODE_WRITE)))
		return ERR_PTR(-EACCES);
	if (offset + size > i_size_read(file_inode(file)))
		return ERR_PTR(-ENXIO);
	kb = memtopo_kb_alloc(MEMTOPO_BACKING_FILE, size, &memtopo_file_ops);
	if (!kb)
		return ERR_PTR(-ENOMEM);
	kb->b.file = get_file(file);
	kb->b.file_offset = offset;
	kb->b.writable = writable;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_file, MEMTOPO);

/**
 * memtopo_backing_process() - RAM at @uaddr of the calling process.
 * @uaddr: page-aligned address in current->mm.
 * @size: bytes, page-aligned, at least one page.
 *
 * The whole range must be mapped now (it may be unmapped later: accesses
 * then fail with -EFAULT).  The backing records the mm, not the task: a
 * thread of the process may create it and another may exit.
 *
 * Context: process context of the owner; takes its mmap lock.
 * Return: the backing with one reference, or ERR_PTR(): -EINVAL for an
 * unaligned or zero range, -EFAULT for a range that is not user memory or
 * not entirely mapped, -ESRCH from a kernel thread, -EINTR, -ENOMEM.
 */
struct memtopo_backing *memtopo_backing_process(u64 uaddr, u64 size)
{
	struct mm_struct *mm = current->mm;
	struct memtopo_kbacking *kb;
	struct vm_area_struct *vma;
	u64 addr;

	if (!size || !PAGE_ALIGNED(size) || !PAGE_ALIGNED(uaddr))
		return ERR_PTR(-EINVAL);
	if (!mm)
		return ERR_PTR(-ESRCH);
	if (uaddr + size < uaddr || !access_ok(u64_to_user_ptr(uaddr), size))
		return ERR_PTR(-EFAULT);
	if (mmap_read_lock_killable(mm))
		return ERR_PTR(-EINTR);
	for (addr = uaddr; addr < uaddr + size; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr) {
			mmap_read_unlock(mm);
			return ERR_PTR(-EFAULT);
		}
	}
	mmap_read_unlock(mm);
	kb = memtopo_kb_alloc(MEMTOPO_BACKING_PROCESS, size, &memtopo_process_ops);
	if (!kb)
		return ERR_PTR(-ENOMEM);
	mmgrab(mm);
	kb->b.mm = mm;
	kb->b.uaddr = uaddr;
	kb->b.writable = true;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_process, MEMTOPO);

/**
 * memtopo_backing_label() - a backing nothing reaches, carrying a
 * userspace address for listeners (a VMM that only mirrors the map).
 * @uaddr: the label, not checked.
 *
 * Context: process context.
 * Return: the backing with one reference, or ERR_PTR(-ENOMEM).
 */
struct memtopo_backing *memtopo_backing_label(u64 uaddr)
{
	struct memtopo_kbacking *kb = memtopo_kb_alloc(MEMTOPO_BACKING_NONE, 0,
						       &memtopo_label_ops);

	if (!kb)
		return ERR_PTR(-ENOMEM);
	kb->b.uaddr = uaddr;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_label, MEMTOPO);

/**
 * memtopo_backing_access() - copy bytes to or from a backing.
 * @b: the backing, referenced by the caller (directly or through a live
 *	region).
 * @offset: first byte within the backing.
 * @buf: kernel buffer of @len bytes.
 * @len: bytes.
 * @write: copy @buf into the backing, else out of it.
 *
 * Nothing is marked dirty here: memtopo_space_write() does that for the
 * region that was written.
 *
 * Context: process context; may sleep (page cache, page faults in the
 * owner's mm).  No memtopo lock needed; do not hold a context mutex
 * across it when the backing is a process the context mutex holder waits
 * on.
 * Return: 0; -EINVAL for a range outside the backing; -EOPNOTSUPP for a
 * NONE backing or a file that cannot be written (hugetlbfs); -EROFS
 * writing a backing that is not writable; FILE: -ENXIO for bytes past the
 * file's current end, kernel_read()/kernel_write() errors (-EPERM for a
 * sealed memfd); PROCESS: -ESRCH once the owner's address space is gone,
 * -EFAULT for an address no longer mapped (or written while mapped
 * read-only), -EINTR.
 */
int memtopo_backing_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
			   bool write)
{
	if (offset > b->size || len > b->size - offset)
		return -EINVAL;
	if (!b->ops->access)
		return -EOPNOTSUPP;
	if (write && !b->writable)
		return -EROFS;
	if (!len)
		return 0;
	return b->ops->access(b, offset, buf, len, write);
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_access, MEMTOPO);

/**
 * memtopo_backing_get_pages() - the pages holding a page-aligned range of
 * a backing, each with a reference (put_page() them).
 * @b: the backing, referenced by the caller.
 * @offset: page-aligned offset within the backing.
 * @nr: pages wanted.
 * @write: the caller will write them (they are marked dirty when found;
 *	mark them again with set_page_dirty_lock() after writing).
 * @pages: @nr slots.
 *
 * What a kernel consumer maps (vmap()) or hands to DMA.  Pages stay valid
 * while referenced even if the backing goes; a file truncated or a
 * process range unmapped meanwhile no longer shows them.
 *
 * Context: process context; may sleep.
 * Return: 0 and all @nr pages, or an error and none: -EINVAL for a range
 * outside the backing or unaligned; -EOPNOTSUPP for a NONE backing or a
 * hugetlbfs file; -EROFS for @write on a read-only backing; -ESRCH,
 * -EFAULT, -EINTR for a process backing as memtopo_backing_access(); a
 * page-cache read error; -ENOMEM.
 */
int memtopo_backing_get_pages(struct memtopo_backing *b, u64 offset, unsigned int nr,
			      bool write, struct page **pages)
{
	unsigned int i = 0;
	int ret = 0;

	if (!PAGE_ALIGNED(offset) || offset > b->size ||
	    (u64)nr << PAGE_SHIFT > round_up(b->size, PAGE_SIZE) - offset)
		return -EINVAL;
	if (write && !b->writable)
		return -EROFS;
	switch (b->kind) {
	case MEMTOPO_BACKING_KERNEL:
		for (i = 0; i < nr; i++) {
			pages[i] = vmalloc_to_page(b->kaddr + offset + ((size_t)i << PAGE_SHIFT));
			get_page(pages[i]);
		}
		return 0;
	case MEMTOPO_BACKING_FILE: {
		struct address_space *mapping = b->file->f_mapping;
		pgoff_t index = (b->file_offset + offset) >> PAGE_SHIFT;

		/* hugetlbfs indexes its cache by huge page; others need ->read_folio */
		if (file_inode(b->file)->i_sb->s_magic == HUGETLBFS_MAGIC ||
		    (!shmem_mapping(mapping) && !mapping->a_ops->read_folio))
			return -EOPNOTSUPP;
		for (i = 0; i < nr; i++) {
			struct page *page = shmem_mapping(mapping) ?
					    shmem_read_mapping_page(mapping, index + i) :
					    read_cache_page(mapping, index + i, NULL, b->file);

			if (IS_ERR(page)) {
				ret = PTR_ERR(page);
				break;
			}
			if (write)
				set_page_dirty_lock(page);
			pages[i] = page;
		}
		break;
	}
	case MEMTOPO_BACKING_PROCESS: {
		struct mm_struct *mm = b->mm;
		long got;

		if (!mmget_not_zero(mm))
			return -ESRCH;
		if (mmap_read_lock_killable(mm)) {
			mmput(mm);
			return -EINTR;
		}
		for (i = 0; i < nr; i += got) {
			got = memtopo_gup_remote(mm, b->uaddr + offset + ((u64)i << PAGE_SHIFT),
						 nr - i, write ? FOLL_WRITE : 0, pages + i);
			if (got <= 0) {
				ret = got < 0 ? got : -EFAULT;
				break;
			}
		}
		mmap_read_unlock(mm);
		mmput(mm);
		break;
	}
	default:
		return -EOPNOTSUPP;
	}
	if (ret) {
		while (i--)
			put_page(pages[i]);
	}
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_get_pages, MEMTOPO);

/**
 * memtopo_backing_find_mmap() - the kernel-owned RAM of @ctx that the mmap
 * offset @off falls in.
 * @ctx: the context of the /dev/memtopo file being mapped.
 * @off: the mapping's offset in bytes.
 *
 * Only a live region of @ctx is found, so one context's fd never reaches
 * another's memory, nor a destroyed region's.  The walk (linear in the
 * context's regions: mmap is rare) takes no mutex: mmap() holds the mmap
 * lock, which a context mutex or file mutex holder may need to fault in a
 * user buffer.  Regions are freed only after an RCU grace period.
 *
 * Context: any; does not sleep.  The caller keeps @ctx alive.
 * Return: the backing with a reference, or NULL.
 */
struct memtopo_backing *memtopo_backing_find_mmap(struct memtopo_ctx *ctx, u64 off)
{
	struct memtopo_backing *found = NULL, *b;
	struct memtopo_region *mr;
	unsigned long id;

	rcu_read_lock();
	xa_for_each(&ctx->objects, id, mr) {
		b = READ_ONCE(mr->backing);
		if (b && b->kind == MEMTOPO_BACKING_KERNEL && off >= b->mmap_offset &&
		    off - b->mmap_offset < round_up(b->size, PAGE_SIZE) &&
		    refcount_inc_not_zero(&b->ref)) {
			found = b;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/**
 * memtopo_backing_map_vma() - map kernel-owned RAM into a process.
 * @b: a backing memtopo_backing_find_mmap() returned for @vma's offset.
 * @vma: the new mapping: shared, ending within @b's pages.
 *
 * The mapped pages hold their own references (vfree() only drops the
 * backing's): the mapping stays valid after the region and its backing are
 * gone.  Writes through it are not dirty-logged (as a KVM guest's writes
 * without dirty logging on).
 *
 * Context: ->mmap(): the mmap lock held for writing.
 * Return: 0; -EINVAL for a private mapping; -ENXIO for one running past
 * @b's pages; vm_insert_page()'s errors.
 */
int memtopo_backing_map_vma(struct memtopo_backing *b, struct vm_area_struct *vma)
{
	struct memtopo_kbacking *kb = to_kb(b);
	unsigned long first = (((u64)vma->vm_pgoff << PAGE_SHIFT) - b->mmap_offset) >> PAGE_SHIFT;
	unsigned long i;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (first >= kb->nr_pages || vma_pages(vma) > kb->nr_pages - first)
		return -ENXIO;
	memtopo_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	for (i = 0; i < vma_pages(vma); i++) {
		ret = vm_insert_page(vma, vma->vm_start + (i << PAGE_SHIFT),
				     vmalloc_to_page(b->kaddr + ((first + i) << PAGE_SHIFT)));
		/* a failed ->mmap() is unmapped by its caller */
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * memtopo_backing_init() - module init: the release workqueue.
 *
 * Return: 0 or -ENOMEM.
 */
int memtopo_backing_init(void)
{
	memtopo_backing_wq = alloc_workqueue("memtopo_backing", WQ_UNBOUND, 0);
	return memtopo_backing_wq ? 0 : -ENOMEM;
}

/**
 * memtopo_backing_exit() - module exit, after the last region was freed
 * (rcu_barrier()): run every pending release.
 */
void memtopo_backing_exit(void)
{
	destroy_workqueue(memtopo_backing_wq);
}
