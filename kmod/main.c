// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - memprint.ko: the /dev/memprint misc device
 *
 * One open file at a time (a second open gets -EBUSY), root only
 * (CAP_SYS_ADMIN at open and at each request).  A request starts with
 * MEMPRINT_IOC_SCAN; read() runs the scan one step at a time and copies
 * its records out, so memory stays bounded and a signal stops it between
 * steps.  Closing the file, also mid-scan, frees everything.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memprint_kmod.h"

static unsigned long device_busy;	/* bit 0: the device is open */

static void end_request(struct mpk_session *session)
{
	if (session->cleanup)
		session->cleanup(session);
	session->cleanup = NULL;
	session->step = NULL;
	mpk_hasher_free(&session->hasher);
	session->active = false;
}

static int mpk_open(struct inode *inode, struct file *file)
{
	struct mpk_session *session;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (test_and_set_bit_lock(0, &device_busy))
		return -EBUSY;

	session = kzalloc(sizeof(*session), GFP_KERNEL);
	if (!session) {
		err = -ENOMEM;
		goto err_busy;
	}
	mutex_init(&session->lock);
	err = mpk_out_init(&session->out);
	if (err)
		goto err_session;
	file->private_data = session;
	return 0;

err_session:
	kfree(session);
err_busy:
	clear_bit_unlock(0, &device_busy);
	return err;
}

static int mpk_release(struct inode *inode, struct file *file)
{
	struct mpk_session *session = file->private_data;

	end_request(session);
	mpk_out_free(&session->out);
	kfree(session);
	clear_bit_unlock(0, &device_busy);
	return 0;
}

static int check_request(const struct memprint_request *request)
{
	if (request->size != sizeof(*request))
		return -EINVAL;
	if (request->options & ~MEMPRINT_OPT_ALL)
		return -EINVAL;
	if (request->end && request->end <= request->start)
		return -EINVAL;
	return 0;
}

static int start_request(struct mpk_session *session,
			 const struct memprint_request *request)
{
	int err = 0;

	end_request(session);
	mpk_out_reset(&session->out, request->options & MEMPRINT_OPT_TEXT);
	session->request = *request;
	if (!(request->options & MEMPRINT_OPT_NO_DIGEST))
		err = mpk_hasher_init(&session->hasher, request->hash);
	if (err)
		return err;

	switch (request->target) {
	case MEMPRINT_TARGET_TASK:
		err = mpk_task_start(session);
		break;
	case MEMPRINT_TARGET_PHYSICAL:
		err = mpk_physical_start(session);
		break;
	case MEMPRINT_TARGET_PAGECACHE:
		err = mpk_cache_start(session);
		break;
	default:
		err = -EINVAL;
		break;
	}
	if (err) {
		end_request(session);
		mpk_out_reset(&session->out, false);
		return err;
	}
	session->active = true;
	return 0;
}

static long mpk_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mpk_session *session = file->private_data;
	struct memprint_request request;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case MEMPRINT_IOC_VERSION:
		return MEMPRINT_ABI_VERSION;
	case MEMPRINT_IOC_SCAN:
		break;
	default:
		return -ENOTTY;
	}

	if (copy_from_user(&request, (void __user *)arg, sizeof(request)))
		return -EFAULT;
	err = check_request(&request);
	if (err)
		return err;
	if (mutex_lock_interruptible(&session->lock))
		return -EINTR;
	err = start_request(session, &request);
	mutex_unlock(&session->lock);
	return err;
}

/* Run one scan step; at the end of the scan append the end record. */
static void run_step(struct mpk_session *session)
{
	int ret = session->step(session);

	if (ret == 0)
		return;
	if (ret < 0)
		pr_debug("scan of target %u stopped: %d\n",
			 session->request.target, ret);
	mpk_emit_end(&session->out, ret < 0 ? ret : 0);
	end_request(session);
}

static ssize_t mpk_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct mpk_session *session = file->private_data;
	struct mpk_out *out = &session->out;
	ssize_t copied = 0, err = 0;

	if (mutex_lock_interruptible(&session->lock))
		return -EINTR;
	while (copied < count) {
		size_t n = out->tail - out->head;

		if (n) {
			n = min(n, count - copied);
			if (copy_to_user(buf + copied, out->buf + out->head, n)) {
				err = -EFAULT;
				break;
			}
			out->head += n;
			copied += n;
			continue;
		}
		if (!session->active)
			break;
		if (signal_pending(current)) {
			err = -EINTR;
			break;
		}
		run_step(session);
		cond_resched();
	}
	mutex_unlock(&session->lock);
	return copied ? copied : err;
}

static const struct file_operations mpk_fops = {
	.owner = THIS_MODULE,
	.open = mpk_open,
	.release = mpk_release,
	.read = mpk_read,
	.unlocked_ioctl = mpk_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mpk_device = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = MEMPRINT_DEVICE_NAME,
	.fops = &mpk_fops,
	.mode = 0600,
};

static int __init mpk_init(void)
{
	return misc_register(&mpk_device);
}

static void __exit mpk_exit(void)
{
	misc_deregister(&mpk_device);
}

module_init(mpk_init);
module_exit(mpk_exit);

MODULE_DESCRIPTION("memprint: page fingerprints of tasks, physical RAM and the page cache");
MODULE_AUTHOR("memprint developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
