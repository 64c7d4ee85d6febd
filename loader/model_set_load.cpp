#include "loader/model_set_load.h"

#include "loader/memfd_decrypt.h"

namespace sigil::loader {

int LoadedSet::main_fd() const {
  for (const LoadedMember& m : members) {
    if (m.name == manifest.main) return m.memfd.fd();
  }
  return -1;
}

std::string LoadedSet::ModelFilesEnv() const {
  std::string env;
  for (const LoadedMember& m : members) {
    if (!env.empty()) env += ':';
    env += m.name + "=/proc/self/fd/" + std::to_string(m.memfd.fd());
  }
  return env;
}

Result<LoadedSet> AttestAndDecryptSet(const LoadOptions& o) {
  SIGIL_ASSIGN_OR_RETURN(ModelSet set, OpenModelSet(o.model));
  std::vector<const Container*> containers;
  for (const Container& c : set.containers) containers.push_back(&c);
  SIGIL_ASSIGN_OR_RETURN(std::vector<SecretBytes> deks, AttestAndReleaseAll(o, containers));
  SIGIL_RETURN_IF_ERROR(VerifySetTags(set, deks));
  LoadedSet loaded{set.manifest, {}};
  // Progress covers the whole set: bytes of earlier members plus the current one's.
  std::uint64_t total = 0, base = 0;
  for (const SetMember& m : set.manifest.members) total += m.size;
  for (std::size_t i = 0; i < set.containers.size(); ++i) {
    DecryptOptions d;
    if (o.progress) d.progress = [&o, &base, total](std::uint64_t done, std::uint64_t) { o.progress(base + done, total); };
    d.threads = o.threads;
    d.require_lock = o.require_lock;
    d.verify_digest = o.verify_digest;
    d.memfd_name = "sigil-model:" + set.manifest.members[i].name;
    // On failure the earlier members' memfds are sealed but closed here (and never handed to
    // anyone), so their pages are freed with the last reference.
    auto m = DecryptToMemfd(set.containers[i], deks[i], d);
    if (!m) return std::move(m).error().Wrap("set member '" + set.manifest.members[i].name + "'");
    loaded.members.push_back({set.manifest.members[i].name, std::move(m).value()});
    base += set.manifest.members[i].size;
  }
  return loaded;
}

}  // namespace sigil::loader
