#!/usr/bin/env python3
"""Every function an installed header declares carries the header's name as its prefix (fsn_<header>...), or one of
the few other subjects the header is the home of, listed here with the reason. Fails on a function outside them."""
import os
import re
import sys

# header -> other prefixes it may declare (besides fsn_<header>)
SUBJECTS = {
    'status': ['fsn_fail', 'fsn_last_error', 'fsn_strerror'],  # the library-wide error state
    'cpu': ['fsn_init'],  # library start-up: detects the CPU, honours FSN_ISA
    'channel': ['fsn_listen', 'fsn_accept', 'fsn_connect', 'fsn_counters_'],  # sockets that make channels
    'conv': ['fsn_pool_', 'fsn_maxpool2d', 'fsn_sumpool2d', 'fsn_global_sumpool'],  # pooling shares the conv family
    'inference': ['fsn_fusion_'],  # the Fusion protocol; fusion.h is the umbrella header
    'nn': ['fsn_model_', 'fsn_layer_', 'fsn_tensor_', 'fsn_preprocess_'],  # the model IR and its tensors
    'ot': ['fsn_cot_', 'fsn_base_ot_'],  # the COT interface and the base OTs under it
    'prg': ['fsn_aes128_', 'fsn_ccrh'],  # AES-based PRG and hashing
    'session': ['fsn_card_'],  # the model card that opens every session
    'twopc': ['fsn_2pc_'],  # C names cannot start with a digit
}


def functions(path):
    src = open(path).read()
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    src = re.sub(r'//.*', '', src)
    src = re.sub(r'typedef[^;]*;', '', src)  # function pointer types are not functions
    return sorted(set(re.findall(r'\b(fsn_\w+)\s*\((?!\s*\*)', src)))


def main(include_dir):
    bad = 0
    headers = sorted(f for f in os.listdir(include_dir) if f.endswith('.h'))
    for h in headers:
        name = h[:-2]
        allowed = ['fsn_' + name] + SUBJECTS.get(name, [])
        for fn in functions(os.path.join(include_dir, h)):
            if not any(fn.startswith(p) for p in allowed):
                print(f'{h}: {fn} is not named after its header (allowed prefixes: {", ".join(allowed)})')
                bad += 1
    if bad:
        return 1
    print(f'{len(headers)} headers: every function carries its header\'s prefix')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
