/* A hostile "kernel" for mote boot (tests/boot/mkbzimage.py wraps it in a
 * bzImage): from the 64-bit entry it makes the accesses a guest controls
 * and the monitor must survive (port and MMIO accesses no device has, a
 * hostile virtio driver), prints HOSTILE-OK on the serial console if each
 * got the answer docs/boot.md and docs/virtio.md promise, then
 * triple-faults. */
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
	call virtio
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

/* The virtio-rng (PCI bus 0, slot 1: the only function without --disk)
 * driven by a hostile driver: a descriptor chain that loops, a buffer
 * outside RAM, a queue size that is not a power of two. Each must leave
 * the device with DEVICE_NEEDS_RESET (0x40) in its status, and the
 * first a configuration interrupt in its ISR; a reset (status 0) makes
 * it usable again. Interrupts stay off, so the raised line is only
 * seen in the ISR. */
virtio:
	mov $0x80000800, %eax	/* slot 1, the ids: read-only */
	call cfg_addr
	xor %eax, %eax
	outl %eax, %dx
	inl %dx, %eax
	cmp $0x10441af4, %eax	/* 1af4:1044, virtio-rng */
	jne fail
	mov $0x80000810, %eax	/* its BAR */
	call cfg_addr
	inl %dx, %eax
	and $0xfffffff0, %eax
	mov %eax, %ebx
	mov $0x80000804, %eax	/* command: memory decoding on */
	call cfg_addr
	mov $2, %ax
	outw %ax, %dx
	/* 1: desc 0 -> 1 -> 0 */
	mov $4, %ecx
	call vq_setup
	movq $0x303000, 0x300000
	movl $16, 0x300008
	movw $3, 0x30000c	/* NEXT | WRITE */
	movw $1, 0x30000e
	movq $0x303000, 0x300010
	movl $16, 0x300018
	movw $3, 0x30001c
	movw $0, 0x30001e
	movw $0, 0x301000	/* avail flags */
	movw $0, 0x301004	/* ring[0]: desc 0 */
	movw $1, 0x301002	/* avail idx */
	movw $0, 0x3000(%rbx)	/* notify queue 0 */
	call needs_reset
	movb 0x1000(%rbx), %al	/* ISR: the configuration interrupt */
	test $2, %al
	jz fail
	movb 0x1000(%rbx), %al	/* read, so acknowledged */
	test %al, %al
	jnz fail
	/* 2: a buffer at 2 GiB, outside the 64 MiB of RAM */
	mov $4, %ecx
	call vq_setup
	movb 0x14(%rbx), %al
	test $0x40, %al		/* the reset cleared it */
	jnz fail
	mov $0x80000000, %eax
	mov %rax, 0x300000
	movw $2, 0x30000c	/* WRITE */
	movw $0, 0x3000(%rbx)
	call needs_reset
	/* 3: a queue of 3 */
	mov $3, %ecx
	call vq_setup
	call needs_reset
	ret

/* Sets the config address register to %eax, %dx to the data port. */
cfg_addr:
	mov $0xcf8, %dx
	outl %eax, %dx
	mov $0xcfc, %dx
	ret

/* Resets the device at %rbx and sets queue 0 up with %cx entries: rings
 * at 0x300000 (descriptors), 0x301000 (avail), 0x302000 (used), every
 * field written with its own width, then DRIVER_OK. */
vq_setup:
	movb $0, 0x14(%rbx)	/* status 0: reset */
	movb $3, 0x14(%rbx)	/* ACKNOWLEDGE | DRIVER */
	movl $1, 0x08(%rbx)	/* driver features, word 1 */
	movl $1, 0x0c(%rbx)	/* VIRTIO_F_VERSION_1 */
	movb $0xb, 0x14(%rbx)	/* | FEATURES_OK */
	movw $0, 0x16(%rbx)	/* queue_select 0 */
	movw %cx, 0x18(%rbx)	/* queue_size */
	movl $0x300000, 0x20(%rbx)
	movl $0, 0x24(%rbx)
	movl $0x301000, 0x28(%rbx)
	movl $0, 0x2c(%rbx)
	movl $0x302000, 0x30(%rbx)
	movl $0, 0x34(%rbx)
	movw $1, 0x1c(%rbx)	/* queue_enable */
	movb $0xf, 0x14(%rbx)	/* | DRIVER_OK */
	ret

/* Fails unless the device at %rbx says DEVICE_NEEDS_RESET. */
needs_reset:
	movb 0x14(%rbx), %al
	test $0x40, %al
	jz fail
	ret

ok:	.ascii "HOSTILE-OK\n"
ok_end:
bad:	.ascii "HOSTILE-BAD\n"
bad_end:
no_idt:	.word 0
	.quad 0
