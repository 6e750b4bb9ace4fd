/**
 * @file exit_port.c
 * @brief The exit device: a guest ends its partition by writing a status to port 0xf4.
 *
 * Same port and meaning as QEMU's isa-debug-exit, so test kernels written for QEMU (the
 * convention of external x86 test suites) report their result here unchanged.
 */
#include <hvlab/partition.h>
#include <hvlab/guest_abi.h>

static u32 exit_read(struct vcpu *v, void *state, u16 port, u8 size)
{
	return 0;
}

static void exit_write(struct vcpu *v, void *state, u16 port, u8 size, u32 value)
{
	partition_exit(v->part, value);
}

static const struct pio_ops exit_ops = { exit_read, exit_write };

static int exit_attach(struct partition *p)
{
	return pio_register(p, HVLAB_PORT_EXIT, 4, &exit_ops, NULL, "exit device");
}
DEVICE_TYPE(exit_device) = { "exit", exit_attach };
