;; UTF-8 to Latin-1 for the AMI parser (core/ami/decode.ts). V8 decodes UTF-8 text that holds characters above
;; U+007F at about 1 GB/s (measured: 2 cores here), a seventh of the time the raw split reader takes per message;
;; text whose characters all fit in one byte (ASCII plus U+0080-U+00FF: é, ö, ñ...) is turned into Latin-1 here,
;; 16 bytes at a time, and decoded with the engine's Latin-1 copy instead.
;;
;; latin1(n): reads the UTF-8 bytes at [0, n), writes their Latin-1 bytes from `out` (exported: 131072) on, and
;; returns how many it wrote; -1 when the text holds a character above U+00FF or is not well-formed UTF-8 there (the
;; caller then decodes it as UTF-8 itself, which also turns malformed bytes into U+FFFD as usual). n <= out.
;; Memory: 5 pages (320 KiB): the input, the output, and room for the last 16-byte store past the output's end.
(module
  (memory (export "memory") 5)
  (global $out (export "out") i32 (i32.const 131072))
  (func (export "latin1") (param $n i32) (result i32)
    (local $i i32) (local $o i32) (local $b i32) (local $c i32) (local $v v128) (local $mask i32) (local $skip i32)
    (local.set $o (global.get $out))
    (block $fail
      (loop $next
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $n))
          (then
            ;; 16 bytes: stored as they are; when all are ASCII that is their Latin-1 too
            (local.set $v (v128.load (local.get $i)))
            (v128.store (local.get $o) (local.get $v))
            (local.set $mask (i8x16.bitmask (local.get $v)))
            (if (i32.eqz (local.get $mask))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $next)))
            ;; keep the ASCII bytes before the first high one; it is read below
            (local.set $skip (i32.ctz (local.get $mask)))
            (local.set $i (i32.add (local.get $i) (local.get $skip)))
            (local.set $o (i32.add (local.get $o) (local.get $skip))))
          (else
            (if (i32.ge_u (local.get $i) (local.get $n))
              (then (return (i32.sub (local.get $o) (global.get $out)))))))
        ;; one byte: a high one, or one of the last 15
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.lt_u (local.get $b) (i32.const 0x80))
          (then
            (i32.store8 (local.get $o) (local.get $b))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br $next)))
        ;; U+0080-U+00FF is C2 or C3 then a continuation byte (80-BF); anything else is not Latin-1 (or not UTF-8)
        (br_if $fail (i32.ne (i32.and (local.get $b) (i32.const 0xfe)) (i32.const 0xc2)))
        (br_if $fail (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $n)))
        (local.set $c (i32.load8_u offset=1 (local.get $i)))
        (br_if $fail (i32.ne (i32.and (local.get $c) (i32.const 0xc0)) (i32.const 0x80)))
        (i32.store8 (local.get $o)
          (i32.or (i32.shl (i32.and (local.get $b) (i32.const 0x1f)) (i32.const 6)) (i32.and (local.get $c) (i32.const 0x3f))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $next)))
    (i32.const -1)))
