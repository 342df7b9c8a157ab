/* Why a VM could not be made, in one line that names the fix. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "vm/vm.h"

/* Whether the file `path` has the word `word` (a flag of /proc/cpuinfo). */
static bool file_has_word(const char *path, const char *word)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[4096];
	size_t n = strlen(word);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		for (char *p = line; !found && (p = strstr(p, word)); p += n)
			found = (p == line || p[-1] == ' ' || p[-1] == '\t') &&
				(p[n] == ' ' || p[n] == '\n' || p[n] == 0);
	fclose(f);
	return found;
}

static bool dir_has(const char *dir, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

const char *vm_enokvm_hint(const char *modules, const char *cpuinfo)
{
	bool vmx = file_has_word(cpuinfo, "vmx"),
	     svm = file_has_word(cpuinfo, "svm");
	if (dir_has(modules, "kvm") || dir_has(modules, "kvm_pvm")) {
		if (!vmx && !svm)
			return "/dev/kvm: no such device: KVM is loaded but "
			       "this machine is a VM without nested "
			       "virtualization (turn it on at its host, or "
			       "pick an instance type that has it; mote's own "
			       "make check tests in a VM of its own)";
		return "/dev/kvm: no such device: KVM is loaded but made no "
		       "device (see dmesg; is virtualization enabled in the "
		       "firmware?)";
	}
	if (vmx || svm)
		return vmx ? "/dev/kvm: no such device (load KVM: modprobe "
			     "kvm_intel)"
			   : "/dev/kvm: no such device (load KVM: modprobe "
			     "kvm_amd)";
	if (file_has_word(cpuinfo, "hypervisor"))
		return "/dev/kvm: no such device: this machine is a VM "
		       "without nested virtualization (turn it on at its "
		       "host, or pick an instance type that has it; mote's "
		       "own make check tests in a VM of its own)";
	return "/dev/kvm: no such device: this CPU offers no VT-x or AMD-V "
	       "(enable virtualization in the firmware)";
}

const char *vm_strerror(enum vm_error e)
{
	switch (e) {
	case VM_OK: return "no error";
	case VM_ENOKVM: return vm_enokvm_hint("/sys/module", "/proc/cpuinfo");
	case VM_EACCES:
		return "/dev/kvm: permission denied (add your user to the kvm "
		       "group: sudo usermod -aG kvm $USER, then log in again)";
	case VM_EVERSION:
		return "KVM is too old: mote needs KVM API 12 with "
		       "KVM_CAP_SYNC_REGS and KVM_CAP_USER_MEMORY (Linux 4.14 "
		       "or newer)";
	case VM_ENOMEM: return "cannot reserve guest memory (lower --memory)";
	case VM_EKVM: return "a KVM call failed";
	}
	return "unknown error";
}

void vm_error_msg(enum vm_error e)
{
	if (e == VM_EKVM)
		msg("%s: %s", vm_strerror(e), strerror(errno));
	else
		msg("%s", vm_strerror(e));
}
