// SPDX-License-Identifier: MIT
/* Seed for fuzz_elf: an object with the symbols and strings target inspection looks for. */
const unsigned long Py_Version = 0x030b07f0;
const char version_string[] = "3.11.7";
char _PyRuntime[4096];
int gil_locked = -1;

void Py_Initialize(void);
void Py_Initialize(void)
{
}

int collect(int generation);
int collect(int generation)
{
	return generation;
}
