# hvlab.gdb — GDB commands for debugging a guest of hvlab (loaded by `make gdb`).
#
# GDB talks to the gdbstub inside the hypervisor (COM2 of the Bochs machine, reached
# through hvlink). The stub also runs the hypervisor's monitor commands, the ones hvmon
# sends (docs/design/monitor-protocol.md), as `monitor ...`; these commands are short
# names for the ones used most. `hv-help` lists them; `monitor help` lists everything the
# hypervisor offers (including choosing the partition GDB sees).
#
# P is a partition's number or name, P.V a vCPU, ADDR hex with 0x or decimal.

# Bochs answers slowly (a packet round trip is ~45 ms, much more while it boots); with
# GDB's default of 2 s it would resend packets it thinks lost. `make gdb` sets this too.
set remotetimeout 60

define hv-help
  echo hv-partitions          every partition, its state and vCPUs\n
  echo hv-vcpu P.V            registers of a vCPU, as the hypervisor sees them\n
  echo hv-vmcs P.V            the VMCS of a vCPU, decoded in words\n
  echo hv-ept P ADDR          walk a guest address through guest paging, then EPT\n
  echo hv-exits [P]           VM exits per exit reason\n
  echo hv-console P [N]       the last N lines of a partition's console\n
  echo monitor help           every monitor command of the hypervisor\n
end
document hv-help
List hvlab's GDB commands (debugger/gdb/hvlab.gdb).
end

define hv-partitions
  monitor info partitions
end
document hv-partitions
Every partition: id, name, state, paging mode, vCPUs. Runs `monitor info partitions`.
end

define hv-vcpu
  if $argc != 1
    echo usage: hv-vcpu P.V\n
  else
    monitor info vcpu $arg0
  end
end
document hv-vcpu
hv-vcpu P.V: registers of vCPU V of partition P. Runs `monitor info vcpu P.V`.
end

define hv-vmcs
  if $argc != 1
    echo usage: hv-vmcs P.V\n
  else
    monitor info vmcs $arg0
  end
end
document hv-vmcs
hv-vmcs P.V: the VMCS of a vCPU, decoded in words (controls, last exit reason and
qualification, guest state). Runs `monitor info vmcs P.V`.
end

define hv-ept
  if $argc != 2
    echo usage: hv-ept P ADDR\n
  else
    monitor info ept $arg0 $arg1
  end
end
document hv-ept
hv-ept P ADDR: walk guest address ADDR of partition P level by level, through the
guest's page tables and then EPT or the shadow tables. Runs `monitor info ept P ADDR`.
end

define hv-exits
  if $argc == 0
    monitor info exits
  else
    monitor info exits $arg0
  end
end
document hv-exits
hv-exits [P]: VM exits counted per exit reason, of P or of all partitions.
Runs `monitor info exits [P]`.
end

define hv-console
  if $argc == 1
    monitor console $arg0
  else
    if $argc == 2
      monitor console $arg0 $arg1
    else
      echo usage: hv-console P [N]\n
    end
  end
end
document hv-console
hv-console P [N]: the last N lines (default 20) partition P wrote to its console.
Runs `monitor console P [N]`.
end
