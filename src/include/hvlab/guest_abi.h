/**
 * @file guest_abi.h
 * @brief What a guest sees: the contract between the hypervisor and the guest images.
 *
 * Shared by src/ and images/. docs/guest-abi.md and docs/hypercalls.md explain it.
 *
 * Entry state of a raw 64-bit (ELF64) guest image, vCPU 0:
 *  - 64-bit mode, CS = 0x08 (flat code), DS/ES/SS/FS/GS = 0x10, GDT at HVLAB_BOOT_GDT.
 *  - CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = LME|LMA|NXE.
 *  - CR3 = HVLAB_BOOT_PML4: guest-physical [0, 4 GiB) identity-mapped with 2 MiB pages,
 *    read/write/execute, supervisor.
 *  - RIP = ELF entry, RDI = HVLAB_BOOT_INFO (struct hvlab_boot_info), RSP = 0 (the guest
 *    sets its own stack first), RFLAGS = 0x2 (interrupts off), no IDT (IDTR limit 0).
 *  - PT_LOAD segments are copied to their p_paddr; the rest of guest RAM is zero.
 */
#ifndef HVLAB_GUEST_ABI_H
#define HVLAB_GUEST_ABI_H

#include <hvlab/types.h>

/* Guest-physical memory map of every partition (below the 1 MiB where images load):
 *   0x00000-0x00fff  real-mode IVT / BIOS data area: left zero
 *   0x01000-0x08fff  raw-image boot GDT, page tables and boot info (below)
 *   0x09000-0x9efff  loader scratch: Multiboot info, Linux boot_params, command lines,
 *                    memory maps (src/arch/x86/loaders/)
 *   0x9f000-0x9ffff  reserved (EBDA)
 *   0xa0000-0xdffff  legacy VGA / option-ROM hole: reported reserved, not RAM
 *   0xe0000-0xfffff  ACPI tables, RSDP at 0xe0000 (src/devices/acpi_tables.c)
 *   0x100000-        guest images; initrds go at the top of RAM */
#define HVLAB_BOOT_GDT 0x1000ULL
#define HVLAB_BOOT_PML4 0x2000ULL
#define HVLAB_BOOT_PDPT 0x3000ULL
#define HVLAB_BOOT_PD 0x4000ULL  /**< four page directories, 0x4000-0x7fff */
#define HVLAB_BOOT_INFO 0x8000ULL
#define HVLAB_GUEST_LOAD_MIN 0x100000ULL /**< lowest p_paddr a raw image may use */
#define HVLAB_LOADER_SCRATCH 0x9000ULL
#define HVLAB_LOADER_SCRATCH_END 0x9f000ULL
#define HVLAB_LOW_RAM_END 0xa0000ULL     /**< end of conventional memory */
#define HVLAB_ACPI_AREA 0xe0000ULL
#define HVLAB_ACPI_AREA_END 0x100000ULL

#define HVLAB_BOOT_MAGIC 0x6876626f6f74ULL /* "hvboot" */

/** Boot information at HVLAB_BOOT_INFO. */
struct hvlab_boot_info {
	u64 magic;        /**< HVLAB_BOOT_MAGIC */
	u64 mem_size;     /**< bytes of guest RAM, starting at ram_base */
	u32 vcpu_id;
	u32 nvcpus;
	u32 partition_id;
	u32 reserved;
	char name[32];    /**< partition name */
	char cmdline[128];
	u64 ram_base;     /**< guest-physical start of the mem_size bytes of RAM (0, or the host
			   *   address for an identity-mapped partition, which also has RAM below 1 MiB) */
	u32 boot_count;   /**< 1 on the first boot, N + 1 after the partition's Nth soft reset */
	u32 reserved2;
};

/* Guest-visible I/O ports. */
#define HVLAB_PORT_COM1 0x3f8   /**< 16550 UART, emulated, output on the hypervisor console */
#define HVLAB_PORT_EXIT 0xf4    /**< 32-bit write of a status ends the partition (as QEMU isa-debug-exit) */

/* The virtual PC platform (src/devices/): addresses its ACPI tables announce. */
#define HVLAB_IOAPIC_BASE 0xfec00000ULL /**< the one IOAPIC, GSIs 0-23 */
#define HVLAB_PM1A_EVT_BLK 0x600        /**< ACPI PM1a event block (status, enable) */
#define HVLAB_PM1A_CNT_BLK 0x604        /**< ACPI PM1a control block */
#define HVLAB_PM_TMR_BLK 0x608          /**< ACPI PM timer, 3.579545 MHz, 24 bits */
#define HVLAB_RTC_CENTURY 0x32          /**< CMOS byte holding the century (FADT CENTURY) */

/* Guest-visible MMIO: the test device (src/devices/testdev.c). */
#define HVLAB_TESTDEV_BASE 0xfeb00000ULL
#define HVLAB_TESTDEV_SIZE 0x1000ULL
#define HVLAB_TESTDEV_ID 0x00        /**< read: HVLAB_TESTDEV_MAGIC */
#define HVLAB_TESTDEV_SCRATCH 0x08   /**< read/write: last value written */
#define HVLAB_TESTDEV_COUNT 0x10     /**< read: number of accesses so far */
#define HVLAB_TESTDEV_MAGIC 0x7665647473657468ULL /* "htestdev" */

/* The partition's read-only view of its own resources (struct resdb_view, resdb_view.h):
 * one page; writing it is an EPT violation that ends the partition. */
#define HVLAB_RESDB_VIEW_GPA 0xfeb10000ULL

/* CPUID leaves the hypervisor adds (Intel reserves 0x40000000-0x4fffffff for VMMs). */
#define HVLAB_CPUID_SIGNATURE 0x40000000u /**< EAX = max leaf, EBX/ECX/EDX = "hvlabhvlabhv" */
#define HVLAB_CPUID_INFO 0x40000001u      /**< EAX = ABI version, EBX = partition id, ECX = vCPU id */
#define HVLAB_ABI_VERSION 1

/* Hypercalls: VMCALL with RAX = number, RDI/RSI/RDX = arguments; result in RAX
 * (negative = error). docs/hypercalls.md. */
#define HC_VERSION 0      /**< returns HVLAB_ABI_VERSION */
#define HC_PARTITION_ID 1 /**< returns the caller's partition id */
#define HC_NOP 2          /**< returns 0: the cheapest round trip, for benchmarks */
#define HC_COUNTERS 3     /**< RDI = guest-physical address of a struct hvlab_counters to fill */
#define HC_PARTITION_CONTROL 4 /**< RDI = partition id, RSI = HC_PC_*: pause/resume/reset/destroy
				* another partition named in this one's `controls` (docs/hypercalls.md) */

/* HC_PARTITION_CONTROL operations, and the states HC_PC_QUERY returns. */
#define HC_PC_QUERY 0   /**< returns HVLAB_PART_* */
#define HC_PC_PAUSE 1
#define HC_PC_RESUME 2
#define HC_PC_RESET 3
#define HC_PC_DESTROY 4
#define HVLAB_PART_RUNNING 0   /**< runs, or waits to */
#define HVLAB_PART_CHANGING 1  /**< a pause, reset or destroy is being carried out */
#define HVLAB_PART_PAUSED 2
#define HVLAB_PART_ENDED 3     /**< exited or faulted */
#define HVLAB_PART_DESTROYED 4

/** What HC_COUNTERS tells a partition about itself (counted by the hypervisor). */
struct hvlab_counters {
	u64 vm_exits;            /**< all VM exits of the partition so far, this call's included */
	u64 injections;          /**< events the hypervisor injected */
	u64 external_interrupt_exits; /**< exits because a physical interrupt arrived */
};

#define HC_ERR_NOSYS (-38LL) /**< unknown hypercall number */
#define HC_ERR_INVAL (-22LL) /**< bad argument */
#define HC_ERR_PERM (-1LL)   /**< not allowed (HC_PARTITION_CONTROL: target not in `controls`) */
#define HC_ERR_BUSY (-16LL)  /**< another operation on the target is still in progress: retry */

#endif
