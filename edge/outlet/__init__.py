"""The courier-outlet node: per-parcel real name, open-box inspection and X-ray on video."""
