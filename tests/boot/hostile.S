/* A hostile "kernel" for mote boot (tests/boot/mkbzimage.py wraps it in a
 * bzImage): from the 64-bit entry it makes the accesses a guest controls
 * and the monitor must survive, prints HOSTILE-OK on the serial console if
 * each got the answer docs/boot.md promises, then triple-faults. */
	.code64
	.text
	.globl _start
_start:
	/* rep outsb and rep insb of 3 pages with a port no device has
	 * (COM2): all-ones in. Not more: 1 MiB of outsb took minutes in the
	 * test VM (KVM seems to exit for each byte of an emulated outsb) */
	mov $0x2f8, %dx
	mov $0x100000, %esi
	mov $0x3000, %ecx
	cld
	rep outsb
	mov $0x200000, %edi
	mov $0x3000, %ecx
	rep insb
	cmpb $0xff, 0x200000
	jne fail
	cmpb $0xff, 0x202fff
	jne fail
	/* a 4-byte read of the UART's last register */
	mov $0x3ff, %dx
	in %dx, %eax
	/* wide accesses to a hole in the port space */
	mov $0xfff0, %dx
	outl %eax, %dx
	inl %dx, %eax
	cmp $0xffffffff, %eax
	jne fail
	/* The ACPI PM1a blocks (0x600-0x605): a string of any bytes into
	 * PM1_CNT's low byte, a dword read from its high byte (bytes past
	 * the block read all-ones), a dword write there with SLP_EN and
	 * sleep type 7 (ignored: no power-off), which reads back without
	 * SLP_EN */
	mov $0x604, %dx
	mov $0x100000, %esi
	mov $0x1000, %ecx
	rep outsb
	mov $0x605, %dx
	in %dx, %eax
	and $0xffffff00, %eax
	cmp $0xffffff00, %eax
	jne fail
	mov $0xffffffff, %eax
	out %eax, %dx
	in %dx, %al
	cmp $0xdf, %al
	jne fail
	/* pvpanic (0x505): says it supports "panicked" alone; the "crash
	 * loaded" event is ignored */
	mov $0x505, %dx
	in %dx, %eax
	cmp $1, %eax
	jne fail
	mov $2, %al
	out %al, %dx
	/* MMIO outside RAM, below the in-kernel APICs: all-ones, writes lost */
	movabs $0xd0000000, %rbx
	movl %eax, (%rbx)
	movq (%rbx), %rax
	cmp $-1, %rax
	jne fail
	lea ok(%rip), %rsi
	mov $ok_end - ok, %ecx
	jmp print
fail:
	lea bad(%rip), %rsi
	mov $bad_end - bad, %ecx
print:
	mov $0x3f8, %dx
	rep outsb
	/* a triple fault: no IDT at all */
	lidt no_idt(%rip)
	int3
	hlt

ok:	.ascii "HOSTILE-OK\n"
ok_end:
bad:	.ascii "HOSTILE-BAD\n"
bad_end:
no_idt:	.word 0
	.quad 0
