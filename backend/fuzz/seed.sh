#!/usr/bin/env bash
# Builds the seed corpus of every fuzz target, backend/fuzz/corpus/<target>/,
# from real files: the repository's tests/fixtures/** and, when it is there,
# ../shared/fixtures/** (beside the repository root), chosen by name and
# content per target, plus a few generated inputs at the edges (deeply
# nested licence expressions, a ~1 MiB SBOM, Go binaries when `go` is
# installed). Idempotent: a seed is named after its content's hash, and
# what libFuzzer added to the corpus is left alone (`--clean` empties it).
#
# Usage: backend/fuzz/seed.sh [--clean]
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$FUZZ_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$FUZZ_DIR/../.." && pwd))"
CORPUS="$FUZZ_DIR/corpus"
TARGETS=(sbom cyclonedx_xml attestation go_buildinfo go_mod ci_definition webhook licence_expression admission policy_eval)
# Nothing larger is a seed (the largest -max_len run.sh uses).
MAX_SEED=$((4 << 20))

if [ "${1:-}" = "--clean" ]; then
  rm -rf "$CORPUS"
fi
for t in "${TARGETS[@]}"; do mkdir -p "$CORPUS/$t"; done

SOURCES=()
[ -d "$ROOT/tests/fixtures" ] && SOURCES+=("$ROOT/tests/fixtures")
SHARED="$ROOT/../shared/fixtures"
if [ -d "$SHARED" ]; then
  SOURCES+=("$(cd "$SHARED" && pwd)")
else
  echo "seed: no $SHARED, using tests/fixtures only"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Seeds are staged under $TMP/stage/<target>/ and named after their content
# at the end (one sha256sum per target, not one process per seed).
STAGE="$TMP/stage"
for t in "${TARGETS[@]}"; do mkdir -p "$STAGE/$t"; done
N=0

# add TARGET FILE: FILE becomes a seed of TARGET.
add() {
  N=$((N + 1))
  cp -- "$2" "$STAGE/$1/$N"
}

# add_text TARGET TEXT: a seed with exactly TEXT (no newline added).
add_text() {
  N=$((N + 1))
  printf '%s' "$2" >"$STAGE/$1/$N"
}

# files_with NAME DIR STRING...: the set NAME (an associative array) of
# files under DIR holding any of the strings (one grep for the whole tree).
files_with() {
  local -n set=$1
  local dir=$2 args=() x
  shift 2
  for x in "$@"; do args+=(-e "$x"); done
  while IFS= read -r -d '' x; do set[$x]=1; done < <(grep -r -l -a -Z -F "${args[@]}" -- "$dir" 2>/dev/null || true)
}

# MAGIC := the first four bytes of FILE (no subshell).
read_magic() {
  MAGIC=''
  LC_ALL=C IFS= read -r -d '' -N 4 MAGIC <"$1" 2>/dev/null || true
}

have_jq=false
command -v jq >/dev/null 2>&1 && have_jq=true

# ---- Real files, by name and content.
for src in ${SOURCES[@]+"${SOURCES[@]}"}; do
  declare -A SBOMS=() BUNDLES=() ENVELOPES=() REVIEWS=()
  files_with SBOMS "$src" '"bomFormat"' '"spdxVersion"'
  files_with BUNDLES "$src" 'application/vnd.dev.sigstore.bundle' '"payloadType"' '"base64Signature"' 'in-toto.io/Statement'
  files_with ENVELOPES "$src" '"payloadType"'
  files_with REVIEWS "$src" '"AdmissionReview"'
  while IFS= read -r -d '' f; do
    rel=${f#"$src"/}
    base=${rel##*/}
    # SBOMs (CycloneDX, SPDX, in-toto wrapped): sbom and policy_eval.
    if [[ $rel == sbom/* || $rel == */sbom/* || -v SBOMS[$f] ]]; then
      add sbom "$f"
      add policy_eval "$f"
      # CycloneDX XML: also the XML target's seeds.
      if [[ $base == *.xml ]]; then
        add cyclonedx_xml "$f"
      fi
      # Their licence expressions, each a licence_expression seed (below).
      grep -a -o -E '"(expression|licenseConcluded|licenseDeclared|licenseInfoInFile)" *: *"[^"]+"' -- "$f" 2>/dev/null |
        sed -E 's/^"[A-Za-z]+" *: *"//; s/"$//' >>"$TMP/licences" || true
    fi

    # Attestations: Sigstore bundles, cosign bundles, DSSE / .intoto.jsonl,
    # in-toto statements.
    case "$base" in
      *.sigstore | *.sigstore.json | *.intoto.jsonl | *.bundle | *.bundle__* | *.slsa) add attestation "$f" ;;
      *.json)
        if [[ -v BUNDLES[$f] ]]; then
          add attestation "$f"
        fi
        ;;
    esac
    # The in-toto statements inside DSSE envelopes, decoded (the target
    # also parses its input as a bare statement).
    if $have_jq && [[ -v ENVELOPES[$f] ]]; then
      jq -r '.. | objects | select(has("payloadType") and has("payload")) | .payload' <"$f" 2>/dev/null >"$TMP/payloads" || true
      while IFS= read -r p; do
        N=$((N + 1))
        printf '%s' "$p" | base64 -d >"$STAGE/attestation/$N" 2>/dev/null || rm -f "$STAGE/attestation/$N"
      done <"$TMP/payloads"
    fi

    # CI definitions.
    case "$rel" in
      ci/* | */ci/*) add ci_definition "$f" ;;
      *)
        case "$base" in
          *.yml | *.yaml | Dockerfile | Dockerfile.* | *.Dockerfile | Containerfile) add ci_definition "$f" ;;
        esac
        ;;
    esac

    # Webhook deliveries.
    case "$rel" in
      webhooks/*.json | webhooks/*/*.json | */webhooks/*.json | */webhooks/*/*.json) add webhook "$f" ;;
    esac

    # go.mod / go.sum.
    case "$base" in
      go.mod | go.mod.* | go.sum | go.sum.* | *.go.mod | *.go.sum) add go_mod "$f" ;;
    esac

    # Go binaries (ELF, Mach-O, universal Mach-O, PE) and `go version -m` text.
    read_magic "$f"
    case "$MAGIC" in
      $'\x7fELF' | $'\xcf\xfa\xed\xfe' | $'\xce\xfa\xed\xfe' | $'\xfe\xed\xfa\xcf' | $'\xfe\xed\xfa\xce' | $'\xca\xfe\xba\xbe' | MZ*)
        add go_buildinfo "$f"
        ;;
    esac
    case "$base" in
      version-m*.txt) add go_buildinfo "$f" ;;
    esac

    # Kubernetes admission reviews.
    if [[ -v REVIEWS[$f] ]]; then add admission "$f"; fi
  done < <(find "$src" -type f -print0 | sort -z)
done

# The repository's own CI definitions are real ones too.
for f in "$ROOT/Dockerfile" "$ROOT/.gitlab-ci.yml" "$ROOT"/.github/workflows/*.yml "$ROOT"/.github/workflows/*.yaml; do
  [ -f "$f" ] && add ci_definition "$f"
done

# ---- A detached signature document (cosign sign-blob --key output plus key).
if $have_jq; then
  for src in ${SOURCES[@]+"${SOURCES[@]}"}; do
    sig=$(find "$src" -name '*.sig' -type f | sort | head -n1)
    key=$(find "$src" -name '*key.pub' -type f | sort | head -n1)
    if [ -n "$sig" ] && [ -n "$key" ]; then
      N=$((N + 1))
      jq -n --rawfile s "$sig" --rawfile k "$key" '{signature: ($s | rtrimstr("\n")), publicKey: $k}' >"$STAGE/attestation/$N"
      N=$((N + 1))
      jq -n --rawfile s "$sig" '{signature: ($s | rtrimstr("\n"))}' >"$STAGE/attestation/$N"
    fi
  done
fi

# ---- Licence expressions: those of the SBOMs, and some at the edges.
if [ -f "$TMP/licences" ]; then
  while IFS= read -r e; do add_text licence_expression "$e"; done < <(sort -u "$TMP/licences")
fi
for e in 'MIT' 'Apache-2.0 OR MIT' 'mit or apache-2.0' \
  '(GPL-2.0-only WITH Classpath-exception-2.0) AND BSD-3-Clause' \
  'GPL-2.0+' 'LicenseRef-scancode-public-domain' 'DocumentRef-x:LicenseRef-y' \
  'MIT AND (Apache-2.0 OR GPL-3.0-only) AND ISC' '((MIT))' '(MIT' 'MIT)' 'MIT WITH' \
  'AND' 'MIT AND' 'NOASSERTION' '' ' ' 'MIT OR Apache-2.0 AND GPL-3.0-only WITH x'; do
  add_text licence_expression "$e"
done
deep_open=$(printf '(%.0s' $(seq 6000))
deep_close=$(printf ')%.0s' $(seq 6000))
add_text licence_expression "${deep_open}MIT${deep_close}"
add_text licence_expression "${deep_open}MIT"
and_chain="MIT$(printf ' AND MIT%.0s' $(seq 19999))"
add_text licence_expression "$and_chain"
add_text licence_expression "MIT$(printf ' OR Apache-2.0%.0s' $(seq 19999))"
# (a OR b) AND (c OR d) AND ...: a disjunctive normal form of 2^40 terms.
add_text licence_expression "(MIT OR Apache-2.0)$(printf ' AND (BSD-3-Clause OR GPL-3.0-only)%.0s' $(seq 39))"

# ---- SBOMs at the edges: deep licence expressions inside an SBOM, and one
# SBOM of ~1 MiB (the -max_len of the JSON targets).
cdx_with_licence() {
  printf '{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"application","bom-ref":"root","name":"app","version":"1"}},"components":[{"type":"library","bom-ref":"a","name":"a","version":"1","purl":"pkg:npm/a@1","licenses":[{"expression":"%s"}]}],"dependencies":[{"ref":"root","dependsOn":["a"]}]}' "$1"
}
for e in "${deep_open}MIT${deep_close}" "$and_chain"; do
  cdx_with_licence "$e" >"$TMP/sbom.json"
  add sbom "$TMP/sbom.json"
  add policy_eval "$TMP/sbom.json"
done
{
  printf '{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","metadata":{"timestamp":"2026-01-01T00:00:00Z","component":{"type":"application","bom-ref":"root","name":"app","version":"1.0.0"}},"components":['
  n=2800
  for ((i = 0; i < n; i++)); do
    [ "$i" -gt 0 ] && printf ','
    printf '{"type":"library","bom-ref":"c%d","name":"github.com/org%d/module%d","version":"v1.%d.0","purl":"pkg:golang/github.com/org%d/module%d@v1.%d.0","supplier":{"name":"org%d"},"licenses":[{"expression":"MIT OR Apache-2.0"}],"hashes":[{"alg":"SHA-256","content":"%064d"}]}' \
      "$i" $((i % 97)) "$i" $((i % 30)) $((i % 97)) "$i" $((i % 30)) $((i % 97)) "$i"
  done
  printf '],"dependencies":['
  for ((i = 0; i < n; i++)); do
    [ "$i" -gt 0 ] && printf ','
    printf '{"ref":"c%d","dependsOn":["c%d"]}' "$i" $(((i + 1) % n))
  done
  printf ']}'
} >"$TMP/big.json"
add sbom "$TMP/big.json"
add policy_eval "$TMP/big.json"

# ---- CycloneDX XML refusals: a DTD with an external entity, an entity
# expansion bomb, an undeclared entity, nesting past the bound, each
# supported version's namespace and an unsupported one.
CDX_XML='<bom xmlns="http://cyclonedx.org/schema/bom/1.5" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"><metadata><component type="application" bom-ref="root"><name>app</name></component></metadata><components><component type="library" bom-ref="a"><name>a</name><version>1</version><purl>pkg:npm/a@1</purl><hashes><hash alg="SHA-256">00</hash></hashes><licenses><expression>MIT</expression></licenses><properties><property name="aquasecurity:trivy:SrcName">a</property></properties><components><component><name>b</name></component></components></component></components><dependencies><dependency ref="root"><dependency ref="a"/></dependency></dependencies></bom>'
for t in sbom cyclonedx_xml; do
  add_text "$t" "$CDX_XML"
  for v in 1.2 1.3 1.4 1.6 1.7; do add_text "$t" "${CDX_XML/bom\/1.5/bom\/$v}"; done
  add_text "$t" '<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component><name>&xxe;</name></component></components></bom>'
  add_text "$t" '<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><bom xmlns="http://cyclonedx.org/schema/bom/1.5">&b;</bom>'
  add_text "$t" '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component><name>&xxe;&amp;&#x41;</name></component></components></bom>'
  add_text "$t" "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">$(printf '<x>%.0s' $(seq 200))</bom>"
done

# ---- Admission reviews (none among the fixtures): the kinds admission::read knows, and a few it refuses.
review() { # operation kind spec-path-json
  printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","kind":{"group":"apps","version":"v1","kind":"%s"},"operation":"%s","name":"web","namespace":"default","object":%s}}' "$2" "$1" "$3"
}
img_pinned='registry.example/acme/app@sha256:5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed'
pod_spec='{"initContainers":[{"name":"init","image":"busybox:1.36"}],"containers":[{"name":"app","image":"'"$img_pinned"'"},{"name":"sidecar","image":"envoyproxy/envoy:v1.30.1"}],"ephemeralContainers":[{"name":"debug","image":"alpine"}]}'
add_text admission "$(review CREATE Pod '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":'"$pod_spec"'}')"
add_text admission "$(review UPDATE Deployment '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":'"$pod_spec"'}}}')"
add_text admission "$(review CREATE CronJob '{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"job"},"spec":{"jobTemplate":{"spec":{"template":{"spec":'"$pod_spec"'}}}}}')"
add_text admission "$(review CREATE Service '{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{}}')"
add_text admission "$(review DELETE Pod 'null')"
add_text admission '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}'

# ---- Go build info: a synthetic universal Mach-O (scanned whole), the
# version -m text of the fixture, and real binaries when Go is installed.
uvarint() { # prints N as a Go uvarint, as printf escapes
  local n=$1 out=''
  while [ "$n" -ge 128 ]; do
    out+=$(printf '\\x%02x' $(((n & 0x7f) | 0x80)))
    n=$((n >> 7))
  done
  out+=$(printf '\\x%02x' "$n")
  printf '%s' "$out"
}
modinfo=$'path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\ndep\tgolang.org/x/text\tv0.14.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bYJurOu7f0=\nbuild\t-compiler=gc\nbuild\tvcs.revision=4f2d1c7a9e0b3d5f6a8c1e2b4d6f8a0c2e4b6d8f\n'
{
  printf '\xca\xfe\xba\xbe\x00\x00\x00\x01'
  head -c 56 /dev/zero
  printf '\xff Go buildinf:\x08\x02'
  head -c 16 /dev/zero
  printf "$(uvarint 8)go1.22.3"
  printf "$(uvarint $((${#modinfo} + 32)))"
  head -c 16 /dev/zero | tr '\0' '0'
  printf '%s' "$modinfo"
  head -c 16 /dev/zero | tr '\0' '\371'
} >"$TMP/fat-macho"
add go_buildinfo "$TMP/fat-macho"

if command -v go >/dev/null 2>&1; then
  hello="$ROOT/tests/fixtures/go/hello"
  if [ -f "$hello/main.go" ]; then
    mkdir -p "$TMP/hello"
    cp "$hello/main.go" "$TMP/hello/"
    if [ -f "$hello/go.mod.txt" ]; then cp "$hello/go.mod.txt" "$TMP/hello/go.mod"; else printf 'module example.com/hello\n\ngo 1.19\n' >"$TMP/hello/go.mod"; fi
    for os in linux darwin windows; do
      if (cd "$TMP/hello" && GOOS=$os GOARCH=amd64 CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local \
        go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$TMP/hello-$os" . >/dev/null 2>&1); then
        add go_buildinfo "$TMP/hello-$os"
        # And `go version -m` of it, the text form of the same upload.
        if (cd "$TMP" && go version -m "hello-$os") >"$TMP/hello-$os.txt" 2>/dev/null; then
          add go_buildinfo "$TMP/hello-$os.txt"
        fi
      else
        echo "seed: go build for $os failed, skipped"
      fi
    done
  fi
else
  echo "seed: go is not installed, no Go binaries among the go_buildinfo seeds"
fi

# ---- Name the staged seeds after their content; drop empty and too large ones.
for t in "${TARGETS[@]}"; do
  find "$STAGE/$t" -type f \( -empty -o -size +"$MAX_SEED"c \) -delete
  if [ -n "$(ls -A "$STAGE/$t")" ]; then
    (cd "$STAGE/$t" && sha256sum -- *) | while read -r sum name; do
      dest="$CORPUS/$t/seed-${sum:0:40}"
      [ -e "$dest" ] || mv -- "$STAGE/$t/$name" "$dest"
    done
  fi
  printf 'seed: %-20s %4d files\n' "$t" "$(find "$CORPUS/$t" -type f | wc -l)"
done
