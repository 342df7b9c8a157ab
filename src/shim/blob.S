/* Embeds the shim's flat binary into the monitor. */
	.section .rodata
	.globl shim_blob
	.globl shim_blob_end
	.balign 16
shim_blob:
	.incbin SHIM_BIN
shim_blob_end:
	.section .note.GNU-stack, "", @progbits
